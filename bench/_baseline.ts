// The raw JetStream baseline every benchmark reports beside its own numbers: 20,000 publishes of 600 bytes, each with
// a Msg-Id and an awaited ack, 256 in flight, into a file-storage stream on the same box in the same run.
import { startNatsServer } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';

const TOTAL = 20_000;
const WINDOW = 256;

/** Publishes/s into a temporary stream on an existing connection (the stream is deleted afterwards). */
export async function rawPublishRate(nc: NatsConnection): Promise<number> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'BENCH_RAW', subjects: ['benchraw.>'] });
  const js = nc.jetstream();
  const body = new Uint8Array(600).fill(0x61);
  const start = performance.now();
  for (let sent = 0; sent < TOTAL; sent += WINDOW) {
    await Promise.all(
      Array.from({ length: WINDOW }, (_, i) => js.publish('benchraw.x', body, { msgID: `m${sent + i}` })),
    );
  }
  const perSec = TOTAL / ((performance.now() - start) / 1000);
  await jsm.streams.delete('BENCH_RAW');
  return perSec;
}

/** The same on a nats-server of its own, for benchmarks that do not otherwise run one. */
export async function rawPublishRateOnOwnServer(name: string): Promise<number> {
  const server = await startNatsServer({ name });
  try {
    const nc = await connect({ servers: server.url });
    try {
      return await rawPublishRate(nc);
    } finally {
      await nc.close();
    }
  } finally {
    await server.dispose();
  }
}
