import { type Static, Type } from '@sinclair/typebox';
import { Closed, EpochMs, Version } from './common.js';

/** Rule names become subject tokens and KV keys: lower-case letters, digits, `_` and `-`. */
export const RULE_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,47}$';
/** `!xxxxxxxx`, lower-case hex, the form Meshtastic tools print. */
export const NODE_ID_PATTERN = '^![0-9a-f]{8}$';

export const ALERT_STATES = ['firing', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/**
 * Rule kinds. Condition kinds fire while a condition holds and resolve when it stops; event kinds (new_node,
 * text_match) fire on one event and resolve `duration` seconds later.
 */
export const ALERT_RULE_KINDS = [
  'node_silent',
  'battery_low',
  'channel_util_high',
  'agent_silent',
  'radio_disconnected',
  'leaf_unlinked',
  'hub_backlog',
  'link_quality',
  'node_moved',
  'new_node',
  'text_match',
] as const;
export type AlertRuleKind = (typeof ALERT_RULE_KINDS)[number];

const AlertStateT = Type.Union(ALERT_STATES.map((s) => Type.Literal(s)));
const NullableString = Type.Union([Type.String(), Type.Null()]);

/**
 * One alert as the alerts service keeps it (KV bucket mesh_alerts, key `alert.<id>`), publishes it (subject
 * mesh.v1.alerts.<rule>.<state>) and the API serves it. Field names are the API's (`GET /api/alerts`).
 */
export const AlertEvent = Closed(
  {
    v: Version,
    kind: Type.Literal('alert'),
    id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,200}$', description: 'Stable id: the same from firing to resolved' }),
    rule: Type.String({ pattern: RULE_NAME_PATTERN }),
    rule_kind: Type.Union(ALERT_RULE_KINDS.map((k) => Type.Literal(k))),
    state: AlertStateT,
    node_id: NullableString,
    site: NullableString,
    agent_id: NullableString,
    since: EpochMs,
    resolved_at: Type.Union([EpochMs, Type.Null()]),
    summary: Type.String(),
    acknowledged: Type.Boolean(),
    silenced_until: Type.Union([EpochMs, Type.Null()]),
    at: EpochMs,
  },
  {
    $id: 'https://meshymcmapface.invalid/schemas/v1/alert.schema.json',
    title: 'Alert',
    description: 'An alert firing or resolved: one event per transition, the same id from firing to resolved',
  },
);
export type AlertEvent = Static<typeof AlertEvent>;

const NodeIdList = Type.Array(Type.String({ pattern: NODE_ID_PATTERN }), { maxItems: 1000 });
const Seconds = Type.Integer({ minimum: 0, maximum: 365 * 24 * 3600 });

/**
 * A rule as the API accepts it and the control bucket (mesh_alerts_control, key `rule.<name>`) holds it. The keys
 * are the INI keys of a `[rule_<name>]` section, so an error names the same field in both.
 */
export const AlertRule = Type.Object(
  {
    name: Type.String({ pattern: RULE_NAME_PATTERN }),
    kind: Type.Union(ALERT_RULE_KINDS.map((k) => Type.Literal(k))),
    duration: Type.Optional(Seconds),
    threshold: Type.Optional(Type.Number({ minimum: 0 })),
    hysteresis: Type.Optional(Type.Number({ minimum: 0 })),
    pattern: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    to_nodes: Type.Optional(NodeIdList),
    nodes: Type.Optional(NodeIdList),
    sites: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), { maxItems: 1000 })),
    agents: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), { maxItems: 1000 })),
    roles: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Z_]{1,32}$' }), { maxItems: 20 })),
    min_firing: Type.Optional(Seconds),
    renotify: Type.Optional(Seconds),
    notify: Type.Optional(Type.Array(Type.String({ pattern: RULE_NAME_PATTERN }), { maxItems: 50 })),
    notify_resolved: Type.Optional(Type.Boolean()),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, title: 'AlertRule' },
);
export type AlertRule = Static<typeof AlertRule>;

/** A silence: no notification for alerts of `rule` (and/or of `node_id`) until `until`. */
export const AlertSilence = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    rule: Type.Optional(Type.String({ pattern: RULE_NAME_PATTERN })),
    node_id: Type.Optional(Type.String({ pattern: NODE_ID_PATTERN })),
    until: EpochMs,
    comment: Type.Optional(Type.String({ maxLength: 500 })),
    created_at: EpochMs,
  },
  { additionalProperties: false, title: 'AlertSilence' },
);
export type AlertSilence = Static<typeof AlertSilence>;

/** An acknowledgement: stops re-notification of one alert. */
export const AlertAck = Type.Object(
  { id: Type.String(), at: EpochMs, by: Type.Optional(Type.String({ maxLength: 200 })) },
  { additionalProperties: false, title: 'AlertAck' },
);
export type AlertAck = Static<typeof AlertAck>;
