import { Writable } from 'node:stream';
import { msgIds, streams, subjects } from '@mmm/schemas';
import { freePort, type HubAndLeaves, startHubAndLeaves, waitFor } from '@mmm/testkit';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AckPolicy, connect, headers, type JsMsg, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { defineConfig } from '../config/spec.js';
import { createLogger } from '../log.js';
import { ensureConsumer, ensureStream } from '../nats.js';
import {
  currentTraceparent,
  inBatchSpan,
  meshMetrics,
  openTelemetrySection,
  startPublishSpan,
  startTelemetry,
  type Telemetry,
  withBatchSpan,
  withConsumeSpan,
  withPublishSpan,
  withSpan,
} from './index.js';

const SITE = 'site1';
const AGENT = 'agent-a';
let mesh: HubAndLeaves;
let leaf: NatsConnection;
let hub: NatsConnection;
let telemetry: Telemetry | undefined;

beforeAll(async () => {
  mesh = await startHubAndLeaves([SITE]);
  leaf = await connect({ servers: mesh.leaves[SITE]!.url });
  hub = await connect({ servers: mesh.hub.url });
  await ensureStream(await leaf.jetstreamManager(), {
    name: streams.site(SITE),
    subjects: [subjects.siteAll(SITE)],
    duplicate_window: 120e9,
  });
  await ensureStream(await hub.jetstreamManager(), {
    name: streams.hub,
    subjects: [],
    sources: [{ name: streams.site(SITE), external: { api: `$JS.${streams.domain(SITE)}.API`, deliver: '' } }],
    duplicate_window: 120e9,
  });
});
afterAll(async () => {
  await leaf?.close();
  await hub?.close();
  await mesh?.dispose();
});
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
});

async function fetchOne(nc: NatsConnection, durable: string, filter?: string): Promise<JsMsg> {
  await ensureConsumer(await nc.jetstreamManager(), streams.hub, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    ...(filter ? { filter_subject: filter } : {}),
  });
  const consumer = await nc.jetstream().consumers.get(streams.hub, durable);
  return waitFor(
    `a message for ${durable}`,
    async () => {
      for await (const m of await consumer.fetch({ max_messages: 1, expires: 1000 })) return m;
      return undefined;
    },
    20_000,
  );
}

describe('one packet, one trace: agent publish -> hub (sourced) -> ingest and API live push', () => {
  it('links the spans through NATS headers across the leaf-to-hub sourcing', async () => {
    const exporter = new InMemorySpanExporter();
    telemetry = await startTelemetry(undefined, {
      serviceName: 'test',
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _e, cb) {
        lines.push(JSON.parse(chunk.toString()));
        cb();
      },
    });
    const log = createLogger({ name: 'api', level: 'info', extra: [sink as never] });

    // Agent: publish one reception to its leaf, inside a PRODUCER span whose context rides in the headers.
    const subject = subjects.rx(SITE, AGENT, 'text');
    const h = headers();
    await withPublishSpan(subject, h, { 'mesh.site': SITE, 'mesh.agent': AGENT }, () =>
      leaf.jetstream().publish(subject, new TextEncoder().encode('{"packet":1}'), {
        headers: h,
        msgID: msgIds.reception(SITE, AGENT, 1, 2, 3, 4),
      }),
    );

    // Ingest: consumes from the hub stream (the message was sourced from the leaf) and commits a batch.
    const forIngest = await fetchOne(hub, 'ingest');
    expect(forIngest.headers?.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await withConsumeSpan('ingest receive', forIngest, {}, () =>
      withBatchSpan('ingest commit', [forIngest], { 'db.system': 'sqlite' }, () => forIngest.ack()),
    );
    // The synchronous variant (the API's projection applies batches synchronously) links the same way.
    expect(inBatchSpan('api apply', [forIngest], {}, () => 42)).toBe(42);
    expect(() =>
      inBatchSpan('api apply failing', [forIngest], {}, () => {
        throw new Error('disk full');
      }),
    ).toThrow('disk full');

    // API: projects the same message and pushes it to WebSocket clients, logging inside the span.
    const forApi = await fetchOne(hub, 'api');
    let pushedTraceparent: string | undefined;
    await withConsumeSpan('api project', forApi, {}, () =>
      withSpan('ws push', { kind: SpanKind.INTERNAL }, () => {
        pushedTraceparent = currentTraceparent();
        log.info({ clients: 1 }, 'pushed');
        forApi.ack();
      }),
    );

    await waitFor('seven spans exported', () => exporter.getFinishedSpans().length === 7);
    const byName = new Map(exporter.getFinishedSpans().map((s) => [s.name, s] as [string, ReadableSpan]));
    const publish = byName.get(`publish ${subject}`)!;
    const ingest = byName.get('ingest receive')!;
    const commit = byName.get('ingest commit')!;
    const project = byName.get('api project')!;
    const push = byName.get('ws push')!;
    const traceId = publish.spanContext().traceId;
    for (const s of [ingest, project, push]) expect(s.spanContext().traceId, s.name).toBe(traceId);
    expect(publish.kind).toBe(SpanKind.PRODUCER);
    expect(ingest.kind).toBe(SpanKind.CONSUMER);
    expect(ingest.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
    expect(project.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
    expect(push.parentSpanContext?.spanId).toBe(project.spanContext().spanId);
    // The batch span is linked to each message's publish span rather than parented by one.
    expect(commit.links.map((l) => l.context.spanId)).toEqual([publish.spanContext().spanId]);
    expect(byName.get('api apply')!.links.map((l) => l.context.spanId)).toEqual([publish.spanContext().spanId]);
    expect(byName.get('api apply failing')!.status.message).toBe('disk full');
    expect(pushedTraceparent).toBe(`00-${traceId}-${push.spanContext().spanId}-01`);
    // The log line written inside the push span carries its ids.
    await waitFor('log line', () => lines.length === 1);
    expect(lines[0]).toMatchObject({ msg: 'pushed', trace_id: traceId, span_id: push.spanContext().spanId });
  });

  it('records nothing for new traces at sampling_ratio 0, and logs carry no ids then', async () => {
    const exporter = new InMemorySpanExporter();
    const cfg = parseConfig(
      defineConfig({ sections: { opentelemetry: openTelemetrySection } }),
      '[opentelemetry]\nenabled = true\nexporter = console\nsampling_ratio = 0\n',
      'x.ini',
      { env: {} },
    );
    telemetry = await startTelemetry(cfg.opentelemetry, {
      serviceName: 'test',
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const h = headers();
    await withPublishSpan('mesh.v1.site1.agent-a.rx.text', h, {}, () => undefined);
    // Unsampled: the traceparent still travels (flag 00), so a downstream sampler can honour the decision.
    expect(h.get('traceparent')).toMatch(/-00$/);
    await new Promise((r) => setImmediate(r));
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });
});

describe('startPublishSpan', () => {
  it('gives fire-and-forget publishers the headers of a PRODUCER span that ends when the publish settles', async () => {
    const exporter = new InMemorySpanExporter();
    telemetry = await startTelemetry(undefined, {
      serviceName: 'test',
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const subject = subjects.rx(SITE, AGENT, 'position');
    const pub = startPublishSpan(subject, { 'mesh.agent': AGENT });
    const ack = await leaf.jetstream().publish(subject, new TextEncoder().encode('{}'), {
      headers: Object.entries(pub.headers).reduce((h, [k, v]) => {
        h.set(k, v);
        return h;
      }, headers()),
    });
    pub.end();
    expect(ack.seq).toBeGreaterThan(0);
    const forApi = await fetchOne(hub, 'api-2', subject);
    await withConsumeSpan('api project', forApi, {}, () => forApi.ack());
    await waitFor('two spans', () => exporter.getFinishedSpans().length >= 2);
    const spans = exporter.getFinishedSpans();
    const publish = spans.find((s) => s.name === `publish ${subject}`)!;
    const consume = spans.find((s) => s.name === 'api project')!;
    expect(publish.kind).toBe(SpanKind.PRODUCER);
    expect(consume.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
    // Without telemetry the headers are empty: nothing to carry, nothing recorded.
    await telemetry.shutdown();
    telemetry = undefined;
    expect(startPublishSpan(subject).headers).toEqual({});
  });
});

describe('metrics', () => {
  it('serves packets, requests, auth failures, store errors, durations and consumer lag for Prometheus', async () => {
    const port = await freePort();
    const spec = defineConfig({ sections: { opentelemetry: openTelemetrySection } });
    const cfg = parseConfig(
      spec,
      `[opentelemetry]\nenabled = true\nexporter = prometheus\nprometheus_port = ${port}\n`,
      'x.ini',
      { env: {} },
    );
    telemetry = await startTelemetry(cfg.opentelemetry, { serviceName: 'mmm-api' });
    const m = meshMetrics();
    m.packets.add(2, { site: SITE, agent: AGENT, port: 'text' });
    m.requests.add(1, { 'http.route': '/api/nodes', 'http.response.status_code': 200 });
    m.requestDuration.record(0.012, { 'http.route': '/api/nodes', 'http.response.status_code': 200 });
    m.authFailures.add(1, { reason: 'unknown key' });
    m.storeErrors.add(1, { store: 'sqlite', operation: 'insert' });
    m.storeDuration.record(0.5, { store: 'sqlite', operation: 'insert' });
    m.watchConsumerLag(() => [{ value: 7, attributes: { stream: 'MESH', consumer: 'ingest' } }]);
    const text = await waitFor('metrics endpoint', async () => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      return res.ok ? res.text() : undefined;
    });
    expect(text).toMatch(/mmm_packets_total\{[^}]*agent="agent-a"[^}]*\} 2/);
    expect(text).toMatch(/mmm_http_server_requests_total\{[^}]*http_route="\/api\/nodes"[^}]*\} 1/);
    expect(text).toMatch(/mmm_http_server_request_duration_bucket\{[^}]*le="0.025"\} 1/);
    expect(text).toMatch(/mmm_auth_failures_total\{[^}]*reason="unknown key"[^}]*\} 1/);
    expect(text).toMatch(/mmm_store_errors_total\{[^}]*store="sqlite"[^}]*\} 1/);
    expect(text).toMatch(/mmm_store_duration_sum\{[^}]*\} 0.5/);
    expect(text).toMatch(/mmm_consumer_lag\{[^}]*consumer="ingest"[^}]*\} 7/);
  });

  it('rejects bad OTLP headers and unknown keys at start', async () => {
    const spec = defineConfig({ sections: { opentelemetry: openTelemetrySection } });
    expect(() => parseConfig(spec, '[opentelemetry]\nexporter = jaeger\n', 'x.ini', { env: {} })).toThrow(/exporter/);
    expect(() => parseConfig(spec, '[opentelemetry]\nsample = 1\n', 'x.ini', { env: {} })).toThrow(/sample/);
    const cfg = parseConfig(spec, '[opentelemetry]\nenabled = true\nheaders = nonsense\n', 'x.ini', { env: {} });
    await expect(startTelemetry(cfg.opentelemetry, { serviceName: 'x' })).rejects.toThrow(/name=value/);
  });
});
