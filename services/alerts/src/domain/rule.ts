import { type AlertRule, type AlertRuleKind, nodeNumFromId, ROLE_NAMES } from '@mmm/schemas';

const MIN = 60_000;
const HOUR = 60 * MIN;

/**
 * What `duration` means per kind, and its default: how long a condition must hold before the alert fires (silence
 * and disconnection kinds, sustained readings), or how long an event alert stays firing before it resolves.
 */
export const DEFAULT_DURATION_MS: Record<AlertRuleKind, number> = {
  node_silent: 2 * HOUR,
  battery_low: 10 * MIN,
  channel_util_high: 10 * MIN,
  agent_silent: 10 * MIN,
  radio_disconnected: 2 * MIN,
  leaf_unlinked: 5 * MIN,
  hub_backlog: 10 * MIN,
  link_quality: 10 * MIN,
  node_moved: HOUR,
  new_node: HOUR,
  text_match: HOUR,
};
/** Percentage points (battery, channel utilisation) a reading must recover beyond the threshold to resolve. */
export const DEFAULT_HYSTERESIS = 5;

/** Kinds about one node; the others are about one agent. */
const NODE_KINDS: readonly AlertRuleKind[] = [
  'node_silent',
  'battery_low',
  'channel_util_high',
  'node_moved',
  'new_node',
  'text_match',
  'link_quality',
];
/** Kinds that fire on one event and resolve on their own `duration` later. */
const EVENT_KINDS: readonly AlertRuleKind[] = ['node_moved', 'new_node', 'text_match'];

export interface Rule {
  readonly name: string;
  readonly kind: AlertRuleKind;
  readonly durationMs: number;
  readonly threshold: number;
  readonly hysteresis: number;
  readonly pattern: RegExp | undefined;
  readonly toNodes: ReadonlySet<number>;
  readonly nodes: ReadonlySet<number> | undefined;
  readonly sites: ReadonlySet<string> | undefined;
  readonly agents: ReadonlySet<string> | undefined;
  readonly roles: ReadonlySet<number> | undefined;
  readonly minFiringMs: number;
  readonly renotifyMs: number;
  /** Webhook names; empty: every webhook that takes this rule. */
  readonly notify: readonly string[];
  readonly notifyResolved: boolean;
  readonly enabled: boolean;
  readonly aboutNode: boolean;
  readonly event: boolean;
  /** The definition it came from, as the API shows it. */
  readonly spec: AlertRule;
}

const set = <T>(xs: readonly T[] | undefined): ReadonlySet<T> | undefined =>
  xs && xs.length > 0 ? new Set(xs) : undefined;

/** Turns a validated definition into the evaluator's form (units in ms, node ids as numbers). */
export function toRule(spec: AlertRule): Rule {
  const event = EVENT_KINDS.includes(spec.kind);
  return {
    name: spec.name,
    kind: spec.kind,
    durationMs: spec.duration !== undefined ? spec.duration * 1000 : DEFAULT_DURATION_MS[spec.kind],
    threshold: spec.threshold ?? 0,
    hysteresis: spec.hysteresis ?? DEFAULT_HYSTERESIS,
    pattern: spec.pattern !== undefined ? new RegExp(spec.pattern, 'iu') : undefined,
    toNodes: new Set((spec.to_nodes ?? []).map(nodeNumFromId)),
    nodes: set(spec.nodes?.map(nodeNumFromId)),
    sites: set(spec.sites),
    agents: set(spec.agents),
    roles: set(spec.roles?.map((r) => (ROLE_NAMES as readonly string[]).indexOf(r))),
    minFiringMs: (spec.min_firing ?? 0) * 1000,
    renotifyMs: (spec.renotify ?? 0) * 1000,
    notify: spec.notify ?? [],
    // An event alert resolving on a timer is not news; a condition that ends is.
    notifyResolved: spec.notify_resolved ?? !event,
    enabled: spec.enabled ?? true,
    aboutNode: NODE_KINDS.includes(spec.kind),
    event,
    spec,
  };
}

/** Whether a node (heard by `site`/`agent`, with `role`) is within the rule's scope. */
export function inScope(
  rule: Rule,
  s: { num?: number; site: string; agent: string; role?: number | undefined },
): boolean {
  if (rule.sites && !rule.sites.has(s.site)) return false;
  if (rule.agents && !rule.agents.has(s.agent)) return false;
  if (rule.nodes && (s.num === undefined || !rule.nodes.has(s.num))) return false;
  if (rule.roles && !rule.roles.has(s.role ?? 0)) return false;
  return true;
}
