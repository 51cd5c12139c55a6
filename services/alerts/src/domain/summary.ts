import { nodeIdFromNum } from '@mmm/schemas';
import type { Rule } from './rule.js';
import type { AgentState, Cond, NodeState } from './world.js';

const dur = (ms: number): string => {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
};

const nodeLabel = (n: NodeState) => (n.name ? `${n.name} (${nodeIdFromNum(n.num)})` : nodeIdFromNum(n.num));

/** One line a person reads in a phone notification: what, which, since when. */
export function summarize(rule: Rule, subject: NodeState | AgentState, cond: Cond | undefined, now: number): string {
  if ('num' in subject) {
    const label = nodeLabel(subject);
    switch (rule.kind) {
      case 'node_silent':
        return `${label} not heard for ${dur(now - subject.lastHeard)}`;
      case 'battery_low':
        return `${label} battery ${cond?.value ?? subject.battery ?? '?'} % (below ${rule.threshold} %)`;
      case 'channel_util_high':
        return `${label} channel utilisation ${cond?.value ?? subject.chUtil ?? '?'} % (above ${rule.threshold} %)`;
      case 'link_quality':
        return `${label} best link quality ${cond?.value ?? '?'} % (below ${rule.threshold} %)${cond?.detail ? `, to ${cond.detail}` : ''}`;
      case 'node_moved':
        return `${label} moved ${cond?.value ?? '?'} m`;
      case 'new_node':
        return `new node ${label} heard by ${cond?.detail ?? `${subject.site}/${subject.agent}`}`;
      case 'text_match':
        return `${label}: ${cond?.detail ?? ''}`;
      default:
        return `${label}: ${rule.kind}`;
    }
  }
  const label = `agent ${subject.site}/${subject.agent}`;
  switch (rule.kind) {
    case 'agent_silent':
      return `${label} has not reported for ${dur(now - subject.lastStatusAt)}`;
    case 'radio_disconnected':
      return `${label} radio ${cond?.detail ?? subject.radioState}`;
    case 'leaf_unlinked':
      return `${label} leaf not linked to the hub (${cond?.value ?? '?'} events held on the site)`;
    case 'hub_backlog':
      return `${label}: the hub is ${cond?.value ?? '?'} events behind on the site stream`;
    default:
      return `${label}: ${rule.kind}`;
  }
}
