import {
  type Attributes,
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { extractTraceContext, type HeaderCarrier, injectTraceHeaders } from './propagation.js';

/** Instrumentation scope of every span the project records. */
export const TRACER_NAME = 'meshymcmapface';

export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** Runs fn inside a new span: ended when fn settles, its error recorded and rethrown. */
export async function withSpan<T>(
  name: string,
  opts: { kind?: SpanKind; attributes?: Attributes; parent?: Context },
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  const parent = opts.parent ?? context.active();
  const span = tracer().startSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * A PRODUCER span around a publish whose headers carry it: `publish <subject>`. Pass the message's headers
 * (nats.js `headers()`); they leave with this span's trace context.
 */
export function withPublishSpan<T>(
  subject: string,
  headers: HeaderCarrier,
  attributes: Attributes,
  fn: () => Promise<T> | T,
): Promise<T> {
  return withSpan(
    `publish ${subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, ...attributes },
    },
    () => {
      injectTraceHeaders(headers);
      return fn();
    },
  );
}

/**
 * A CONSUMER span for one received message: a child of the span that published it (context from its headers),
 * so agent publish, ingest and the API's live push share one trace.
 */
export function withConsumeSpan<T>(
  name: string,
  msg: { subject: string; headers?: HeaderCarrier },
  attributes: Attributes,
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  return withSpan(
    name,
    {
      kind: SpanKind.CONSUMER,
      parent: extractTraceContext(msg.headers),
      attributes: { 'messaging.system': 'nats', 'messaging.source.name': msg.subject, ...attributes },
    },
    fn,
  );
}

/**
 * One span for a batch of messages (e.g. ingest's store commit): linked to every message's publish span, since a
 * span has one parent but a batch has many.
 */
export function withBatchSpan<T>(
  name: string,
  msgs: readonly { headers?: HeaderCarrier }[],
  attributes: Attributes,
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  const links = msgs
    .map((m) => trace.getSpanContext(extractTraceContext(m.headers)))
    .filter((sc) => sc !== undefined && trace.isSpanContextValid(sc))
    .map((sc) => ({ context: sc! }));
  const span = tracer().startSpan(name, {
    kind: SpanKind.CONSUMER,
    links,
    attributes: { 'messaging.batch.message_count': msgs.length, ...attributes },
  });
  return (async () => {
    try {
      return await context.with(trace.setSpan(context.active(), span), () => fn(span));
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  })();
}

/** Log fields of the active span, for pino's `mixin`: every line written inside a span carries its ids. */
export function traceLogFields(): { trace_id?: string; span_id?: string; trace_flags?: string } {
  const sc = trace.getSpanContext(context.active());
  if (!sc || !trace.isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId, trace_flags: `0${sc.traceFlags.toString(16)}` };
}

/**
 * For publishers that do not await inside a callback (the agent hands events to a windowed publisher): starts a
 * PRODUCER span and returns the headers that carry it, and `end` to call when the publish settles.
 */
export function startPublishSpan(
  subject: string,
  attributes: Attributes = {},
): { headers: Record<string, string>; end(err?: unknown): void } {
  const span = tracer().startSpan(`publish ${subject}`, {
    kind: SpanKind.PRODUCER,
    attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, ...attributes },
  });
  const headers: Record<string, string> = {};
  if (span.isRecording() || trace.isSpanContextValid(span.spanContext())) {
    injectTraceHeaders(
      {
        get: (k) => headers[k] ?? '',
        set: (k, v) => {
          headers[k] = v;
        },
        keys: () => Object.keys(headers),
      },
      trace.setSpan(context.active(), span),
    );
  }
  return {
    headers,
    end: (err?: unknown) => {
      if (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      }
      span.end();
    },
  };
}

/**
 * Like withBatchSpan, for synchronous work (or work that returns a promise): runs fn inside a span linked to every
 * message's publish span and returns what fn returns, so a synchronous caller stays synchronous.
 */
export function inBatchSpan<T>(
  name: string,
  msgs: readonly { headers?: HeaderCarrier }[],
  attributes: Attributes,
  fn: (span: Span) => T,
): T {
  const links = msgs
    .map((m) => trace.getSpanContext(extractTraceContext(m.headers)))
    .filter((sc) => sc !== undefined && trace.isSpanContextValid(sc))
    .map((sc) => ({ context: sc! }));
  const span = tracer().startSpan(name, {
    kind: SpanKind.CONSUMER,
    links,
    attributes: { 'messaging.batch.message_count': msgs.length, ...attributes },
  });
  const fail = (err: unknown) => {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
  };
  let result: T;
  try {
    result = context.with(trace.setSpan(context.active(), span), () => fn(span));
  } catch (err) {
    fail(err);
    span.end();
    throw err;
  }
  if (result instanceof Promise) {
    result.then(
      () => span.end(),
      (err) => {
        fail(err);
        span.end();
      },
    );
  } else {
    span.end();
  }
  return result;
}
