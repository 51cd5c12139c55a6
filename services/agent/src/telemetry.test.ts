import { startTelemetry, type Telemetry } from '@mmm/common';
import { streams, subjects } from '@mmm/schemas';
import { startSimulator } from '@mmm/simulator';
import { waitFor } from '@mmm/testkit';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { startAgent } from './agent.js';
import { agentIni, quietLog, settingsFrom, startStack } from './testing/test-stack.js';

describe('agent telemetry', () => {
  it('starts a packet trace at the radio: each reception carries the traceparent of the publish span the agent records', async () => {
    const stack = await startStack();
    const sim = await startSimulator({ seed: 3, nodes: 6, rate: 10 });
    const settings = settingsFrom(
      agentIni({
        leafUrl: stack.leafUrl,
        simPort: sim.port,
        extra: '[opentelemetry]\nenabled = true\nexporter = console\n',
      }),
    );
    expect(settings.opentelemetry.enabled).toBe(true);
    const exporter = new InMemorySpanExporter();
    let telemetry: Telemetry | undefined = await startTelemetry(settings.opentelemetry, {
      serviceName: 'mmm-agent',
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const agent = await startAgent(settings, { log: quietLog() });
    try {
      const jsm = await stack.hubNc.jetstreamManager();
      const m = await waitFor('a reception on the hub', () =>
        jsm.streams.getMessage(streams.hub, { last_by_subj: subjects.rx('site1', 'agent1', 'position') }),
      );
      const traceparent = m.header.get('traceparent');
      expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      const [, traceId, spanId] = traceparent.split('-');
      const span = await waitFor('its publish span', () =>
        exporter.getFinishedSpans().find((s) => s.spanContext().spanId === spanId),
      );
      expect(span.name).toBe(`publish ${m.subject}`);
      expect(span.kind).toBe(SpanKind.PRODUCER);
      expect(span.spanContext().traceId).toBe(traceId);
      // A root span: the trace begins at the agent.
      expect(span.parentSpanContext).toBeUndefined();
    } finally {
      await agent.stop();
      await telemetry?.shutdown();
      telemetry = undefined;
      await sim.stop();
      await stack.dispose();
    }
  }, 60_000);
});
