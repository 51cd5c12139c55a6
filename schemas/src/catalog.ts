import type { Static, TSchema } from '@sinclair/typebox';
import { AlertEvent } from './events/alert.js';
import { DeadLetter } from './events/deadletter.js';
import { NodeDbSnapshot, TraceOutcome } from './events/nodedb.js';
import { Reception } from './events/reception.js';
import { AgentStatus } from './events/status.js';
import { TopologyUpdate } from './events/topology.js';
import type { ParsedSubject } from './subjects.js';

/**
 * Every event kind of the contract, once: its schema and the kind of subject it is published on. The event type
 * union, the validators, decodeEvent's subject check and the JSON Schema files all derive from this table, so a
 * new kind is one entry here (recipe: docs/development.md, "Adding an event kind").
 */
export const EVENT_CATALOG = {
  reception: { schema: Reception, subject: 'rx' },
  nodedb: { schema: NodeDbSnapshot, subject: 'nodedb' },
  trace: { schema: TraceOutcome, subject: 'trace' },
  status: { schema: AgentStatus, subject: 'status' },
  topology: { schema: TopologyUpdate, subject: 'topology' },
  deadletter: { schema: DeadLetter, subject: 'deadletter' },
  alert: { schema: AlertEvent, subject: 'alert' },
} as const satisfies Record<string, { readonly schema: TSchema; readonly subject: ParsedSubject['kind'] }>;

export type EventKind = keyof typeof EVENT_CATALOG;
export const EVENT_KINDS = Object.keys(EVENT_CATALOG) as EventKind[];

/** The event type of a kind; a reception is typed per port (its payload follows the port). */
export type EventOf<K extends EventKind> = K extends 'reception'
  ? Reception
  : Static<(typeof EVENT_CATALOG)[K]['schema']>;
export type MeshEvent = { [K in EventKind]: EventOf<K> }[EventKind];

// A subject kind that parseSubject knows but no event kind is published on fails to compile here.
type Uncatalogued = Exclude<ParsedSubject['kind'], (typeof EVENT_CATALOG)[EventKind]['subject']>;
const everySubjectHasAKind: [Uncatalogued] extends [never] ? true : Uncatalogued = true;
void everySubjectHasAKind;

/** The event kind published on each kind of subject. */
export const KIND_OF_SUBJECT = Object.fromEntries(EVENT_KINDS.map((k) => [EVENT_CATALOG[k].subject, k])) as Record<
  ParsedSubject['kind'],
  EventKind
>;

/** One JSON Schema file per event kind, written to schemas/json/<kind>.schema.json by `npm run gen -w @mmm/schemas`. */
export const EVENT_SCHEMAS: readonly { file: string; kind: EventKind; schema: TSchema }[] = EVENT_KINDS.map((kind) => ({
  file: `${kind}.schema.json`,
  kind,
  schema: EVENT_CATALOG[kind].schema,
}));
