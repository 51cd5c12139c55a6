import type { AgentStatus, MeshEvent, NodeDbSnapshot, Reception } from '@mmm/schemas';
import { inScope, type Rule } from './rule.js';
import { type AgentState, agentKey, distanceM, type NodeState, type World } from './world.js';

/** Subjects an event changed: the evaluator looks at these right away instead of waiting for the next sweep. */
export interface Touched {
  nodes: Set<number>;
  agents: Set<string>;
}

export const noneTouched = (): Touched => ({ nodes: new Set(), agents: new Set() });

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Applies one hub event to the world and to every rule's conditions. Topology and other kinds are ignored. */
export function observe(world: World, rules: readonly Rule[], ev: MeshEvent, touched: Touched): void {
  if (ev.kind === 'reception') observeReception(world, rules, ev, touched);
  else if (ev.kind === 'status') observeStatus(world, rules, ev, touched);
  else if (ev.kind === 'nodedb') observeNodeDb(world, ev);
}

function observeReception(world: World, rules: readonly Rule[], ev: Reception, touched: Touched): void {
  const from = ev.packet.from;
  if (from === 0) return;
  const t = ev.receivedAt;
  let node = world.nodes.get(from);
  const isNew = node === undefined;
  if (!node) {
    node = { num: from, firstHeard: t, lastHeard: t, site: ev.site, agent: ev.agent, conds: {} };
    world.nodes.set(from, node);
  }
  if (t >= node.lastHeard) {
    node.lastHeard = t;
    node.site = ev.site;
    node.agent = ev.agent;
  }
  touched.nodes.add(from);
  if (ev.source === 'mqtt') observeGateway(world, ev, touched);
  const p = ev.payload as Record<string, unknown>;
  let battery: number | undefined;
  let chUtil: number | undefined;
  let pos: { lat: number; lon: number } | undefined;
  let text: string | undefined;
  switch (ev.port) {
    case 'nodeinfo':
      if (num(p.role) !== undefined) node.role = p.role as number;
      else node.role = 0;
      if (typeof p.longName === 'string') node.name = p.longName;
      break;
    case 'telemetry': {
      const dm = p.deviceMetrics as Record<string, unknown> | undefined;
      battery = num(dm?.batteryLevel);
      chUtil = num(dm?.channelUtilization);
      if (battery !== undefined) node.battery = battery;
      if (chUtil !== undefined) node.chUtil = chUtil;
      break;
    }
    case 'position': {
      const lat = num(p.latitude);
      const lon = num(p.longitude);
      if (lat !== undefined && lon !== undefined && !(lat === 0 && lon === 0)) {
        pos = { lat, lon };
        node.lat = lat;
        node.lon = lon;
      }
      break;
    }
    case 'text':
      text = typeof p.text === 'string' ? p.text : undefined;
      break;
    default:
      break;
  }
  for (const rule of rules) {
    if (!rule.enabled || !rule.aboutNode) continue;
    if (!inScope(rule, { num: from, site: ev.site, agent: ev.agent, role: node.role })) continue;
    applyNodeRule(rule, node, {
      t,
      isNew,
      battery,
      chUtil,
      pos,
      text,
      to: ev.packet.to,
      site: ev.site,
      agent: ev.agent,
    });
  }
}

interface Reading {
  t: number;
  isNew: boolean;
  battery: number | undefined;
  chUtil: number | undefined;
  pos: { lat: number; lon: number } | undefined;
  text: string | undefined;
  to: number;
  site: string;
  agent: string;
}

function applyNodeRule(rule: Rule, node: NodeState, r: Reading): void {
  const c = node.conds;
  switch (rule.kind) {
    case 'new_node':
      if (r.isNew) c[rule.name] = { since: r.t, until: r.t + rule.durationMs, detail: `${r.site}/${r.agent}` };
      break;
    case 'battery_low':
      // 101 is "on external power"; above threshold + hysteresis it is well and truly charged again.
      if (r.battery === undefined) break;
      if (r.battery < rule.threshold) c[rule.name] = { since: c[rule.name]?.since ?? r.t, value: r.battery };
      else if (r.battery > rule.threshold + rule.hysteresis) delete c[rule.name];
      else if (c[rule.name]) c[rule.name]!.value = r.battery;
      break;
    case 'channel_util_high':
      if (r.chUtil === undefined) break;
      if (r.chUtil > rule.threshold) c[rule.name] = { since: c[rule.name]?.since ?? r.t, value: r.chUtil };
      else if (r.chUtil < rule.threshold - rule.hysteresis) delete c[rule.name];
      break;
    case 'node_moved': {
      if (!r.pos) break;
      const anchorKey = `@${rule.name}`;
      const anchor = c[anchorKey];
      if (!anchor) {
        c[anchorKey] = { since: r.t, detail: `${r.pos.lat},${r.pos.lon}` };
        break;
      }
      const [lat, lon] = (anchor.detail ?? '0,0').split(',').map(Number);
      const d = distanceM({ lat: lat!, lon: lon! }, r.pos);
      if (d > rule.threshold) {
        c[rule.name] = { since: r.t, until: r.t + rule.durationMs, value: Math.round(d) };
        c[anchorKey] = { since: r.t, detail: `${r.pos.lat},${r.pos.lon}` };
      }
      break;
    }
    case 'text_match': {
      if (r.text === undefined) break;
      const matches = (rule.pattern?.test(r.text) ?? false) || rule.toNodes.has(r.to);
      if (!matches) break;
      const open = c[rule.name];
      const since = open && (open.until ?? 0) > r.t ? open.since : r.t;
      c[rule.name] = { since, until: r.t + rule.durationMs, detail: r.text.slice(0, 120) };
      break;
    }
    default:
      break;
  }
}

/**
 * An MQTT gateway sends no status events: each uplink is its sign of life, so `agent_silent` covers gateways that
 * stop reporting (its radio-side rules never hold for one).
 */
function observeGateway(world: World, ev: Reception, touched: Touched): void {
  const key = agentKey(ev.site, ev.agent);
  const a = world.agents.get(key);
  if (!a) {
    world.agents.set(key, {
      site: ev.site,
      agent: ev.agent,
      lastStatusAt: ev.receivedAt,
      radioState: 'connected',
      radioSince: ev.receivedAt,
      conds: {},
    });
  } else if (ev.receivedAt > a.lastStatusAt) a.lastStatusAt = ev.receivedAt;
  touched.agents.add(key);
}

function observeStatus(world: World, rules: readonly Rule[], ev: AgentStatus, touched: Touched): void {
  const key = agentKey(ev.site, ev.agent);
  let a = world.agents.get(key);
  if (!a) {
    a = {
      site: ev.site,
      agent: ev.agent,
      lastStatusAt: ev.at,
      radioState: ev.radio.state,
      radioSince: ev.radio.since,
      conds: {},
    };
    world.agents.set(key, a);
  }
  if (ev.at < a.lastStatusAt) return;
  a.lastStatusAt = ev.at;
  a.radioState = ev.radio.state;
  a.radioSince = ev.radio.since;
  const hub = ev.buffer.hubConnected;
  if (hub !== undefined && hub !== a.hubConnected) a.hubSince = ev.at;
  a.hubConnected = hub;
  touched.agents.add(key);
  for (const rule of rules) {
    if (!rule.enabled || rule.aboutNode || !inScope(rule, { site: ev.site, agent: ev.agent })) continue;
    applyAgentRule(rule, a, ev);
  }
}

function applyAgentRule(rule: Rule, a: AgentState, ev: AgentStatus): void {
  const c = a.conds;
  if (rule.kind === 'radio_disconnected') {
    if (ev.radio.state === 'connected') delete c[rule.name];
    else c[rule.name] ??= { since: Math.min(ev.radio.since, ev.at), detail: ev.radio.state };
  } else if (rule.kind === 'leaf_unlinked') {
    if (ev.buffer.hubConnected === false) {
      c[rule.name] ??= { since: ev.at, value: ev.buffer.streamMessages };
      c[rule.name]!.value = ev.buffer.streamMessages;
    } else if (ev.buffer.hubConnected === true) delete c[rule.name];
  } else if (rule.kind === 'hub_backlog') {
    // Absent while the hub is not asked or not sourcing: an unlinked leaf is leaf_unlinked's to report.
    const behind = ev.buffer.hubBacklog;
    if (behind === undefined) return;
    if (behind > rule.threshold) {
      c[rule.name] ??= { since: ev.at, value: behind };
      c[rule.name]!.value = behind;
    } else delete c[rule.name];
  }
}

/** Node DBs carry the role of nodes whose NODEINFO we have not heard; they do not count as hearing a node. */
function observeNodeDb(world: World, ev: NodeDbSnapshot): void {
  for (const n of ev.nodes) {
    const node = world.nodes.get(n.num);
    if (node && node.role === undefined && n.user) node.role = n.user.role ?? 0;
  }
}
