import type { TSchema } from '@sinclair/typebox';
import { AlertEvent } from './events/alert.js';
import { DeadLetter } from './events/deadletter.js';
import { NodeDbSnapshot, TraceOutcome } from './events/nodedb.js';
import { Reception } from './events/reception.js';
import { AgentStatus } from './events/status.js';
import { TopologyUpdate } from './events/topology.js';

/** One JSON Schema file per event kind, written to schemas/json/<file> by `npm run gen -w @mmm/schemas`. */
export const EVENT_SCHEMAS: readonly { file: string; kind: string; schema: TSchema }[] = [
  { file: 'reception.schema.json', kind: 'reception', schema: Reception },
  { file: 'nodedb.schema.json', kind: 'nodedb', schema: NodeDbSnapshot },
  { file: 'trace.schema.json', kind: 'trace', schema: TraceOutcome },
  { file: 'status.schema.json', kind: 'status', schema: AgentStatus },
  { file: 'topology.schema.json', kind: 'topology', schema: TopologyUpdate },
  { file: 'deadletter.schema.json', kind: 'deadletter', schema: DeadLetter },
  { file: 'alert.schema.json', kind: 'alert', schema: AlertEvent },
];
