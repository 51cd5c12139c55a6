// `npm run bench -- ops [messages]`: what the ops plumbing costs on the publish path and in logging. Cases:
//   publish-plain     JetStreamPublisher publishes/s, no trace headers (the raw JetStream baseline of this run)
//   publish-otel-off  with startPublishSpan but telemetry not started (what every service pays by default)
//   publish-otel-on   with telemetry on: a recorded PRODUCER span per message, traceparent header, batch export
//   logship           pino lines/s through createLogger with a JsonTcpShipper to a local TCP collector (stdout off)
// Each case runs 3 times against a real nats-server; the line reports the median and the ratio to publish-plain.
import { createServer } from 'node:net';
import type { Writable } from 'node:stream';
import { JetStreamPublisher, JsonTcpShipper, startPublishSpan, startTelemetry } from '@mmm/common';
import { startNatsServer } from '@mmm/testkit';
import { BatchSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { connect } from 'nats';
import pino from 'pino';

const N = Number(process.argv[2] ?? 20_000);
const payload = new TextEncoder().encode(JSON.stringify({ kind: 'reception', raw: 'x'.repeat(400) }));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const server = await startNatsServer({ name: 'bench-ops' });
const nc = await connect({ servers: server.url });
const jsm = await nc.jetstreamManager();
await jsm.streams.add({ name: 'BENCH', subjects: ['bench.>'] });

async function publishRun(withSpan: boolean): Promise<number> {
  await jsm.streams.purge('BENCH');
  const pub = new JetStreamPublisher(nc.jetstream());
  const t0 = performance.now();
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < N; i++) {
    const subject = `bench.agent.rx.${i % 7}`;
    if (withSpan) {
      const span = startPublishSpan(subject, { 'messaging.message.id': `m${i}` });
      all.push(pub.publish(subject, payload, `m${i}-${t0}`, span.headers).then(() => span.end()));
    } else {
      all.push(pub.publish(subject, payload, `m${i}-${t0}`));
    }
    if (all.length % 1000 === 0) await Promise.resolve();
  }
  await Promise.all(all);
  return N / ((performance.now() - t0) / 1000);
}

async function logshipRun(): Promise<number> {
  let received = 0;
  let resolveAll!: () => void;
  const allIn = new Promise<void>((r) => (resolveAll = r));
  const srv = createServer((s) => {
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      received += lines.length;
      if (received >= N) resolveAll();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const ship = new JsonTcpShipper({
    host: '127.0.0.1',
    port: (srv.address() as { port: number }).port,
    bufferLines: N * 2,
  });
  // The same pino configuration as createLogger, minus stdout, so the shipper is what is measured.
  const log = pino(
    { base: { service: 'bench' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.multistream([{ stream: ship as unknown as Writable }]),
  );
  const t0 = performance.now();
  for (let i = 0; i < N; i++) log.info({ site: 'north', agent: 'gw-1', i }, 'packet stored');
  await allIn;
  const rate = N / ((performance.now() - t0) / 1000);
  await ship.close();
  srv.close();
  return rate;
}

const runs = (fn: () => Promise<number>) => (async () => [await fn(), await fn(), await fn()])();
const plain = median(await runs(() => publishRun(false)));
const off = median(await runs(() => publishRun(true)));
const exporter = new InMemorySpanExporter();
const telemetry = await startTelemetry(undefined, {
  serviceName: 'bench',
  spanProcessors: [new BatchSpanProcessor(exporter)],
});
const on = median(await runs(() => publishRun(true)));
await telemetry.shutdown();
const ship = median(await runs(logshipRun));
const line = (c: string, rate: number, unit: string) =>
  console.log(
    JSON.stringify({
      scenario: 'ops',
      case: c,
      [unit]: Math.round(rate),
      raw_publish_per_s: Math.round(plain),
      ratio: Number((rate / plain).toFixed(3)),
      messages: N,
    }),
  );
line('publish-plain', plain, 'per_s');
line('publish-otel-off', off, 'per_s');
line('publish-otel-on', on, 'per_s');
line('logship', ship, 'lines_per_s');
await nc.close();
await server.dispose();
