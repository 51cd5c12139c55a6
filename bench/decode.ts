// `npm run bench -- decode [seconds]`: how fast one core turns radio bytes into events. Cases:
//   deframe  frames/s through Deframer with validate=isFromRadio, on a stream with debug text between frames
//   decode   receptions/s: deframe + parseFromRadio + receptionFromPacket (decrypting) + JSON.stringify
// Frames are the real captures (potato-mesh MeshPackets, friendlydev envelopes' packets) wrapped as FromRadio.
// Baseline: raw JetStream publishes/s (600-byte messages, 256 in flight) to a real nats-server in the same run.
import { readFileSync } from 'node:fs';
import { create, Deframer, encodeFrame, fromBinary, isFromRadio, Mesh, Mqtt, toBinary } from '@mmm/meshtastic';
import { fixturePath } from '@mmm/testkit';
import { ChannelKeyring, parseFromRadio, receptionFromPacket } from '../services/agent/src/decode/index.js';
import { rawPublishRateOnOwnServer } from './_baseline.js';

const seconds = Number(process.argv[2] ?? 3);

function capturedPackets(): Mesh.MeshPacket[] {
  const udp = readFileSync(fixturePath('potato-mesh_mesh_udp_capture.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) =>
      fromBinary(Mesh.MeshPacketSchema, Buffer.from((JSON.parse(l) as { raw_b64: string }).raw_b64, 'base64')),
    );
  const mqtt = readFileSync(fixturePath('friendlydev_mqtt_serviceenvelopes.b64.txt'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        const p = fromBinary(Mqtt.ServiceEnvelopeSchema, Buffer.from(l, 'base64')).packet;
        return p ? [p] : [];
      } catch {
        return [];
      }
    });
  return [...udp, ...mqtt];
}

function wireStream(packets: Mesh.MeshPacket[]): { wire: Buffer; frames: number } {
  const parts: Uint8Array[] = [];
  packets.forEach((packet, i) => {
    const fr = create(Mesh.FromRadioSchema, { id: i + 1, payloadVariant: { case: 'packet', value: packet } });
    parts.push(encodeFrame(toBinary(Mesh.FromRadioSchema, fr)));
    if (i % 10 === 0)
      parts.push(
        Buffer.from(`DEBUG | 12:00:0${i % 10} [Router] rx id=0x${i.toString(16)} \x94\xc3\x00\x40\r\n`, 'latin1'),
      );
  });
  return { wire: Buffer.concat(parts), frames: packets.length };
}

function rate(work: () => number): number {
  const until = performance.now() + seconds * 1000;
  const start = performance.now();
  let n = 0;
  while (performance.now() < until) n += work();
  return n / ((performance.now() - start) / 1000);
}

const packets = capturedPackets();
const { wire, frames } = wireStream(packets);
const keys = new ChannelKeyring();
const CHUNK = 1024;

rate(() => frames); // warm-up of the JIT on both paths
const deframePerSec = rate(() => {
  const d = new Deframer({ validate: isFromRadio });
  let n = 0;
  for (let at = 0; at < wire.length; at += CHUNK) {
    for (const f of d.push(wire.subarray(at, at + CHUNK))) if (f.type === 'packet') n++;
  }
  return n;
});
const decodePerSec = rate(() => {
  const d = new Deframer({ validate: isFromRadio });
  let n = 0;
  for (let at = 0; at < wire.length; at += CHUNK) {
    for (const f of d.push(wire.subarray(at, at + CHUNK))) {
      if (f.type !== 'packet') continue;
      const item = parseFromRadio(f.payload);
      if (!item.ok || item.value.kind !== 'packet') continue;
      const ev = receptionFromPacket(item.value.packet, item.value.raw, {
        site: 'bench',
        agent: 'a1',
        receivedAt: Date.now(),
        source: 'radio',
        keys,
      });
      if (JSON.stringify(ev).length > 0) n++;
    }
  }
  return n;
});
const baseline = await rawPublishRateOnOwnServer('bench-decode');
for (const [name, perSec] of [
  ['deframe', deframePerSec],
  ['decode', decodePerSec],
] as const) {
  console.log(
    JSON.stringify({
      scenario: 'decode',
      case: name,
      perSec: Math.round(perSec),
      baselineJetStreamPublishPerSec: Math.round(baseline),
      ratioToBaseline: Number((perSec / baseline).toFixed(2)),
      frames,
      seconds,
    }),
  );
}
