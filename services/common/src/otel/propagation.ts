import { type Context, context, type TextMapGetter, type TextMapSetter, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/** The part of nats.js's MsgHdrs the helpers need; plain objects with get/set/keys work too. */
export interface HeaderCarrier {
  get(key: string): string;
  set(key: string, value: string): void;
  keys(): string[];
}

/**
 * W3C trace context (`traceparent`, `tracestate`) in NATS message headers. An explicit propagator instead of the
 * global one: the headers are the same whether or not a service has the SDK running, and a process that never
 * started telemetry passes a context it received on untouched.
 */
const propagator = new W3CTraceContextPropagator();

const setter: TextMapSetter<HeaderCarrier> = { set: (h, k, v) => h.set(k, v) };
const getter: TextMapGetter<HeaderCarrier | undefined> = {
  get: (h, k) => (h ? h.get(k) || undefined : undefined),
  keys: (h) => (h ? h.keys() : []),
};

/** Writes the current (or given) span context into NATS headers before a publish. Returns the headers. */
export function injectTraceHeaders<H extends HeaderCarrier>(headers: H, ctx: Context = context.active()): H {
  propagator.inject(ctx, headers, setter);
  return headers;
}

/** The context a received message carries (parent of the consumer's span); the root context when it has none. */
export function extractTraceContext(headers: HeaderCarrier | undefined, base: Context = context.active()): Context {
  return propagator.extract(base, headers, getter);
}

/** `traceparent` of the active span, e.g. to hand to a WebSocket client; undefined when nothing is recorded. */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !trace.isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-0${(sc.traceFlags & 1).toString(16)}`;
}
