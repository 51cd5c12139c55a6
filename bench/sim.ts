// `npm run bench -- sim [seconds]`: how fast the simulator feeds its clients, so benchmarks that drive an agent from it
// know the source is not their bottleneck. Cases:
//   live-1   packets/s one TCP client receives (deframed + FromRadio parsed) with the rate set far above what it can do
//   live-2   the same with two clients at once (per-client rate)
//   replay   packets/s of a looped capture replay to one client
// Baseline: raw JetStream publishes/s (600-byte messages, 256 in flight) to a real nats-server in the same run.

import { connect } from 'node:net';
import { create, Deframer, encodeFrame, fromBinary, Mesh, toBinary } from '@mmm/meshtastic';
import { startSimulator } from '@mmm/simulator';
import { fixturePath } from '@mmm/testkit';
import { rawPublishRateOnOwnServer } from './_baseline.js';

const seconds = Number(process.argv[2] ?? 3);

/** Connects, asks for the config, then counts MeshPackets for `seconds` after the first one. */
async function receiver(port: number): Promise<{ rate: Promise<number> }> {
  const sock = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const d = new Deframer();
  let count = 0;
  let start = 0;
  const rate = new Promise<number>((resolve) => {
    sock.on('data', (chunk) => {
      for (const f of d.push(chunk)) {
        if (f.type !== 'packet') continue;
        const m = fromBinary(Mesh.FromRadioSchema, f.payload);
        if (m.payloadVariant.case !== 'packet') continue;
        if (start === 0) start = performance.now();
        count++;
      }
      if (start > 0 && performance.now() - start >= seconds * 1000) {
        sock.destroy();
        resolve(count / ((performance.now() - start) / 1000));
      }
    });
  });
  sock.write(
    encodeFrame(
      toBinary(Mesh.ToRadioSchema, create(Mesh.ToRadioSchema, { payloadVariant: { case: 'wantConfigId', value: 1 } })),
    ),
  );
  return { rate };
}

async function live(clients: number): Promise<number> {
  const sim = await startSimulator({ nodes: 50, rate: 1_000_000, seed: 1 });
  try {
    const rs = await Promise.all(Array.from({ length: clients }, () => receiver(sim.port)));
    const rates = await Promise.all(rs.map((r) => r.rate));
    return Math.min(...rates);
  } finally {
    await sim.stop();
  }
}

async function replay(): Promise<number> {
  const sim = await startSimulator({
    replay: fixturePath('friendlydev_mqtt_serviceenvelopes.b64.txt'),
    loop: true,
    rate: 1_000_000,
  });
  try {
    return await (await receiver(sim.port)).rate;
  } finally {
    await sim.stop();
  }
}

await live(1); // warm-up: JIT and sockets
const results: [string, number][] = [
  ['live-1', await live(1)],
  ['live-2', await live(2)],
  ['replay', await replay()],
];
const baseline = await rawPublishRateOnOwnServer('bench-sim');
for (const [name, perSec] of results) {
  console.log(
    JSON.stringify({
      scenario: 'sim',
      case: name,
      perSec: Math.round(perSec),
      baselineJetStreamPublishPerSec: Math.round(baseline),
      ratioToBaseline: Number((perSec / baseline).toFixed(2)),
      seconds,
    }),
  );
}
