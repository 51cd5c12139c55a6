export {
  ALERT_BUCKETS,
  ALERTS_STREAM,
  type AlertRuleEntry,
  alertKeys,
  alertMsgIds,
  alertSubjects,
  assertRuleName,
  type Checked,
  THRESHOLD_KINDS,
  validateAlertRule,
  validateAlertSilence,
} from './alerts.js';
export { EVENT_CATALOG, EVENT_KINDS, EVENT_SCHEMAS, type EventOf } from './catalog.js';
export {
  COMMAND_ROOT,
  CommandReply,
  commandSubjects,
  type Parsed,
  parseCommandReply,
  parseTextCommand,
  TEXT_MAX_BYTES,
  TextCommand,
  truncateUtf8,
} from './commands.js';
export { ContractError } from './errors.js';
export * from './events/alert.js';
export { SCHEMA_VERSION } from './events/common.js';
export * from './events/deadletter.js';
export * from './events/nodedb.js';
export * from './events/payloads.js';
export * from './events/reception.js';
export * from './events/status.js';
export * from './events/topology.js';
export { BROADCAST_NUM, nodeIdFromNum, nodeNumFromId, ROLE_NAMES, roleName } from './nodes.js';
export { PORTNUM, portFromPortnum } from './ports.js';
export { renderSchema } from './render.js';
export { msgIdOf, subjectOf } from './routing.js';
export {
  consumers,
  DUPLICATE_WINDOW_MS,
  msgIds,
  parseTopologyLinkKey,
  streams,
  TOPOLOGY_BUCKET,
  TOPOLOGY_BUCKETS,
  TOPOLOGY_LEASE_TTL_S,
  topologyLinkKey,
} from './streams.js';
export {
  AGENT_EVENT_KINDS,
  type AgentEventKind,
  isPort,
  type ParsedSubject,
  PORTS,
  type Port,
  parseSubject,
  SITE_EVENT_KINDS,
  type SiteEventKind,
  SUBJECT_ROOT,
  subjects,
  TOPOLOGY_KINDS,
  type TopologyKind,
} from './subjects.js';
export { assertSite, assertToken, RESERVED_SITES, TOKEN_PATTERN, tokenProblem } from './tokens.js';
export { assertEvent, decodeEvent, type EventKind, type MeshEvent, type Result, validateEvent } from './validate.js';
