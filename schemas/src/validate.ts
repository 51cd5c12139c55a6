import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { EVENT_CATALOG, EVENT_KINDS, type EventKind, KIND_OF_SUBJECT, type MeshEvent } from './catalog.js';
import { PayloadByPort } from './events/payloads.js';
import { type Reception, ReceptionEnvelope } from './events/reception.js';
import type { Port } from './subjects.js';
import { parseSubject } from './subjects.js';

export type { EventKind, MeshEvent } from './catalog.js';

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

function firstError(check: TypeCheck<TSchema>, value: unknown, prefix = ''): string | undefined {
  if (check.Check(value)) return undefined;
  const e = check.Errors(value).First();
  if (!e) return `${prefix || '/'}: invalid`;
  return `${prefix}${e.path || '/'}: ${e.message}`;
}

const envelope = TypeCompiler.Compile(ReceptionEnvelope);
const payloads = Object.fromEntries(
  Object.entries(PayloadByPort).map(([port, schema]) => [port, TypeCompiler.Compile(schema as TSchema)]),
) as unknown as Record<Port, TypeCheck<TSchema>>;

// A reception is checked as envelope, then payload by port: the error then names the payload field, not the union.
const checks = Object.fromEntries(
  EVENT_KINDS.filter((k) => k !== 'reception').map((k) => [
    k,
    TypeCompiler.Compile(EVENT_CATALOG[k].schema as TSchema),
  ]),
) as Record<Exclude<EventKind, 'reception'>, TypeCheck<TSchema>>;

/** Validates any event by its `kind`; the error names the field (a JSON pointer) and what was expected. */
export function validateEvent(value: unknown): Result<MeshEvent> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: '/: expected a JSON object' };
  }
  const kind = (value as { kind?: unknown }).kind;
  if (kind === 'reception') {
    const err =
      firstError(envelope, value) ??
      firstError(payloads[(value as { port: Port }).port], (value as { payload: unknown }).payload, '/payload');
    return err ? { ok: false, error: err } : { ok: true, value: value as Reception };
  }
  if (typeof kind === 'string' && kind in checks) {
    const err = firstError(checks[kind as keyof typeof checks], value);
    return err ? { ok: false, error: err } : { ok: true, value: value as MeshEvent };
  }
  return { ok: false, error: `/kind: expected one of ${EVENT_KINDS.join(', ')}` };
}

/**
 * Parses a message as consumers receive it: JSON, a valid event, and consistent with its subject
 * (site, agent, port and kind in the payload must match the tokens), so a mis-routed event is caught.
 */
export function decodeEvent(subject: string, data: Uint8Array | string): Result<MeshEvent> {
  let parsed: ReturnType<typeof parseSubject>;
  try {
    parsed = parseSubject(subject);
  } catch (err) {
    return { ok: false, error: `subject: ${(err as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data));
  } catch (err) {
    return { ok: false, error: `/: not JSON (${(err as Error).message})` };
  }
  const res = validateEvent(json);
  if (!res.ok) return res;
  const ev = res.value;
  if (ev.kind !== KIND_OF_SUBJECT[parsed.kind]) {
    return { ok: false, error: `/kind: ${ev.kind} published on a ${parsed.kind} subject` };
  }
  if ('site' in parsed && 'agent' in ev && (ev.site !== parsed.site || ev.agent !== parsed.agent)) {
    return {
      ok: false,
      error: `/site: event of ${ev.site}/${ev.agent} published on a subject of ${parsed.site}/${parsed.agent}`,
    };
  }
  if (parsed.kind === 'alert' && ev.kind === 'alert' && (ev.rule !== parsed.rule || ev.state !== parsed.state)) {
    return { ok: false, error: `/rule: alert of ${ev.rule}/${ev.state} published on ${subject}` };
  }
  if (parsed.kind === 'rx' && ev.kind === 'reception' && ev.port !== parsed.port) {
    return { ok: false, error: `/port: ${ev.port} published on the ${parsed.port} subject` };
  }
  return res;
}

/** Throws; for producers, where a bad event is a programming error. */
export function assertEvent<T extends MeshEvent>(value: T): T {
  const res = validateEvent(value);
  if (!res.ok) throw new TypeError(`invalid ${String((value as { kind?: unknown }).kind)} event: ${res.error}`);
  return value;
}
