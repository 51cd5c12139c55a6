import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { ContractError } from './errors.js';
import {
  ALERT_STATES,
  type AlertAck,
  AlertRule,
  type AlertRuleKind,
  AlertSilence,
  type AlertState,
  RULE_NAME_PATTERN,
} from './events/alert.js';
import { ROLE_NAMES } from './nodes.js';
import { SUBJECT_ROOT } from './subjects.js';

const RULE_NAME_RE = new RegExp(RULE_NAME_PATTERN);

export function assertRuleName(name: unknown): string {
  if (typeof name !== 'string' || !RULE_NAME_RE.test(name)) {
    throw new ContractError(
      `rule name ${JSON.stringify(name)} must be 1-48 lower-case letters, digits, '_' or '-', starting with a letter or digit`,
    );
  }
  return name;
}

/** Alert subjects: `mesh.v1.alerts.<rule>.<state>` (the site id `alerts` is reserved for them). */
export const alertSubjects = {
  transition(rule: string, state: AlertState): string {
    if (!(ALERT_STATES as readonly string[]).includes(state)) {
      throw new ContractError(`alert state ${JSON.stringify(state)} is not one of ${ALERT_STATES.join(', ')}`);
    }
    return `${SUBJECT_ROOT}.alerts.${assertRuleName(rule)}.${state}`;
  },
  all: `${SUBJECT_ROOT}.alerts.>`,
} as const;

/** The stream that keeps alert transitions (created by the alerts service or `mmm streams provision`). */
export const ALERTS_STREAM = 'MESH_ALERTS';

/**
 * KV buckets of the alerts service:
 * - `alerts`: every alert, key `alert.<id>` (public; the API reads it);
 * - `control`: what operators change at run time through the API: `rule.<name>`, `silence.<id>`, `ack.<alert id>`;
 * - `state`: the service's own checkpoint and notification outbox.
 */
export const ALERT_BUCKETS = {
  alerts: 'mesh_alerts',
  control: 'mesh_alerts_control',
  state: 'mesh_alerts_state',
} as const;

export const alertKeys = {
  alert: (id: string) => `alert.${id}`,
  rule: (name: string) => `rule.${assertRuleName(name)}`,
  silence: (id: string) => `silence.${id}`,
  ack: (alertId: string) => `ack.${alertId}`,
} as const;

export const alertMsgIds = {
  transition: (id: string, state: AlertState) => `alert:${id}:${state}`,
} as const;

/** What a control bucket entry `rule.<name>` holds: a rule, or a tombstone that removes a rule of the INI file. */
export type AlertRuleEntry = AlertRule | { name: string; deleted: true };

export type Checked<T> = { ok: true; value: T } | { ok: false; field: string; error: string };

function first<T>(check: TypeCheck<TSchema>, value: unknown): Checked<T> {
  if (check.Check(value)) return { ok: true, value: value as T };
  const e = check.Errors(value).First();
  const field = (e?.path ?? '').replace(/^\//, '').split('/')[0] || '/';
  // The pattern itself says little to a person; say what a node id looks like.
  const message =
    e && (field === 'nodes' || field === 'to_nodes' || field === 'node_id') && typeof e.value === 'string'
      ? `${JSON.stringify(e.value)} is not a node id of the form !xxxxxxxx (8 lower-case hex digits)`
      : (e?.message ?? 'invalid');
  return { ok: false, field, error: `${e?.path || '/'}: ${message}` };
}

const ruleCheck = TypeCompiler.Compile(AlertRule);
const silenceCheck = TypeCompiler.Compile(AlertSilence);

/** Kinds that compare a measured value with `threshold`, which they therefore need. */
export const THRESHOLD_KINDS: readonly AlertRuleKind[] = [
  'battery_low',
  'channel_util_high',
  'node_moved',
  'hub_backlog',
  'link_quality',
];

/**
 * Validates a rule (from the API or the control bucket). The error names the field: `field` is the rule's key,
 * `error` says what is wrong with it. Shape first, then what a schema cannot say (the pattern compiles, roles exist,
 * the kind has what it needs).
 */
export function validateAlertRule(value: unknown): Checked<AlertRule> {
  const shape = first<AlertRule>(ruleCheck, value);
  if (!shape.ok) return shape;
  const r = shape.value;
  const bad = (field: string, error: string): Checked<AlertRule> => ({
    ok: false,
    field,
    error: `/${field}: ${error}`,
  });
  if (THRESHOLD_KINDS.includes(r.kind) && r.threshold === undefined) return bad('threshold', `${r.kind} needs one`);
  if (
    (r.kind === 'battery_low' || r.kind === 'channel_util_high' || r.kind === 'link_quality') &&
    (r.threshold ?? 0) > 100
  ) {
    return bad('threshold', 'is a percentage, at most 100');
  }
  if (r.kind === 'text_match' && r.pattern === undefined && (r.to_nodes ?? []).length === 0) {
    return bad('pattern', 'text_match needs a pattern or to_nodes');
  }
  if (r.pattern !== undefined) {
    try {
      new RegExp(r.pattern, 'iu');
    } catch (err) {
      return bad('pattern', `is not a regular expression (${(err as Error).message})`);
    }
  }
  const unknownRole = (r.roles ?? []).find((x) => !(ROLE_NAMES as readonly string[]).includes(x));
  if (unknownRole) return bad('roles', `unknown role ${unknownRole} (known: ${ROLE_NAMES.join(', ')})`);
  return shape;
}

export function validateAlertSilence(value: unknown): Checked<AlertSilence> {
  const shape = first<AlertSilence>(silenceCheck, value);
  if (!shape.ok) return shape;
  if (shape.value.rule === undefined && shape.value.node_id === undefined) {
    return { ok: false, field: 'rule', error: '/rule: a silence needs a rule, a node_id, or both' };
  }
  return shape;
}

export type { AlertAck };
