import { nodeIdFromNum, type Port } from '@mmm/schemas';
import { nodeRef, typeNameOfPort } from '@mmm/schemas/legacy';
import type { Db } from '../store/db.js';
import { display, hwModelName, iso, packetPayload, roleLabel } from './format.js';

export const HOUR_MS = 3_600_000;
/** "Active" = heard on the radio within this window (the original's definition of the window, on the right clock). */
export const ACTIVE_MS = HOUR_MS;

export interface NodeDbRow {
  num: number;
  short_name: string | null;
  long_name: string | null;
  macaddr: string | null;
  hw_model: number | null;
  hw_model_name: string | null;
  role: number | null;
  is_licensed: number | null;
  public_key: string | null;
  lat: number | null;
  lon: number | null;
  alt: number | null;
  position_at: number | null;
  battery_level: number | null;
  voltage: number | null;
  channel_utilization: number | null;
  air_util_tx: number | null;
  uptime_seconds: number | null;
  firmware_version: string | null;
  region: number | null;
  modem_preset: number | null;
  last_heard: number | null;
  first_seen: number;
  updated_at: number;
  packet_count: number;
}

interface NodeAgentRow {
  num: number;
  site: string;
  agent: string;
  last_heard: number | null;
  updated_at: number;
  hops_away: number | null;
  snr: number | null;
  rssi: number | null;
  location_name: string | null;
}

interface TraceRow {
  id: string;
  site: string;
  agent: string;
  request_id: number;
  from_num: number;
  to_num: number;
  started_at: number;
  finished_at: number;
  outcome: string;
  trig: string | null;
  towards: string | null;
  back: string | null;
  error: string | null;
  location_name?: string | null;
}

// Rows are built dynamically from SQL; response schemas in the routes describe (and document) their shape.
// biome-ignore lint/suspicious/noExplicitAny: see above
export type Json = any;

/** Agent location names by site and agent: a small table, read once per request instead of joined per row. */
function agentNames(db: Db): Map<string, string | null> {
  const rows = db.prepare('SELECT site, agent, location_name FROM agents').all() as {
    site: string;
    agent: string;
    location_name: string | null;
  }[];
  return new Map(rows.map((a) => [`${a.site}\u0000${a.agent}`, a.location_name]));
}

function agentsOf(db: Db, nums: number[]): Map<number, NodeAgentRow[]> {
  const out = new Map<number, NodeAgentRow[]>();
  if (!nums.length) return out;
  const names = agentNames(db);
  const rows = db
    .prepare(`SELECT num, site, agent, last_heard, updated_at, hops_away, snr, rssi FROM node_agents
      WHERE num IN (SELECT value FROM json_each(?))`)
    .all(JSON.stringify(nums)) as NodeAgentRow[];
  // Newest first, sorted here: cheaper than a temp B-tree over every (node, agent) row of the page.
  rows.sort((a, b) => (b.last_heard ?? 0) - (a.last_heard ?? 0));
  for (const r of rows) {
    r.location_name = names.get(`${r.site}\u0000${r.agent}`) ?? null;
    const list = out.get(r.num) ?? [];
    list.push(r);
    out.set(r.num, list);
  }
  return out;
}

function latestRoutes(db: Db, nums: number[]): Map<number, Map<string, TraceRow>> {
  const out = new Map<number, Map<string, TraceRow>>();
  if (!nums.length) return out;
  const rows = db
    .prepare(`SELECT t.*, a.location_name FROM traces t LEFT JOIN agents a ON a.site = t.site AND a.agent = t.agent
      WHERE t.outcome = 'success' AND t.to_num IN (SELECT value FROM json_each(?)) ORDER BY t.finished_at ASC`)
    .all(JSON.stringify(nums)) as TraceRow[];
  for (const r of rows) {
    const m = out.get(r.to_num) ?? new Map<string, TraceRow>();
    m.set(r.agent, r);
    out.set(r.to_num, m);
  }
  return out;
}

function path(json: string | null): { route: number[]; snr: (number | null)[] } | null {
  return json ? (JSON.parse(json) as { route: number[]; snr: (number | null)[] }) : null;
}

/** Nodes as one row each (the original's /api/nodes/detailed row, deduplicated, with the agents that hear it). */
export function nodeRows(db: Db, nodes: NodeDbRow[], now = Date.now()): Json[] {
  const nums = nodes.map((n) => n.num);
  const agents = agentsOf(db, nums);
  const routes = latestRoutes(db, nums);
  return nodes.map((n) => {
    const seen = agents.get(n.num) ?? [];
    const heard = seen.filter((a) => a.last_heard !== null);
    const best = heard[0];
    const hops = seen.map((a) => a.hops_away).filter((h): h is number => h !== null);
    const agentRoutes: Json = {};
    for (const [agent, t] of routes.get(n.num) ?? []) {
      const towards = path(t.towards);
      agentRoutes[agent] = {
        agent_id: agent,
        location_name: t.location_name ?? null,
        hop_count: towards ? towards.route.length - 1 : null,
        route_path: towards ? towards.route.map(nodeRef) : [],
        discovery_timestamp: iso(t.finished_at),
        route_type: 'traceroute',
      };
    }
    return {
      node_id: nodeIdFromNum(n.num),
      node_num: n.num,
      short_name: n.short_name,
      long_name: n.long_name,
      display_name: display(n.short_name, n.long_name),
      macaddr: n.macaddr,
      hw_model: hwModelName(n.hw_model, n.hw_model_name),
      role: roleLabel(n.role),
      role_id: n.role,
      is_licensed: n.is_licensed === null ? null : n.is_licensed === 1,
      battery_level: n.battery_level,
      voltage: n.voltage,
      channel_utilization: n.channel_utilization,
      air_util_tx: n.air_util_tx,
      uptime_seconds: n.uptime_seconds,
      position: n.lat !== null && n.lon !== null ? [n.lat, n.lon] : null,
      altitude: n.alt,
      position_time: iso(n.position_at),
      rssi: best?.rssi ?? null,
      snr: best?.snr ?? null,
      hops_away: hops.length ? Math.min(...hops) : null,
      last_heard: iso(n.last_heard),
      updated_at: iso(n.updated_at),
      first_seen: iso(n.first_seen),
      packet_count: n.packet_count,
      active: n.last_heard !== null && now - n.last_heard <= ACTIVE_MS,
      agent_count: seen.length,
      seeing_agents: seen.map((a) => a.location_name ?? a.agent),
      seeing_agent_ids: seen.map((a) => a.agent),
      agents: seen.map((a) => ({
        agent_id: a.agent,
        site: a.site,
        location_name: a.location_name,
        hops_away: a.hops_away,
        snr: a.snr,
        rssi: a.rssi,
        last_heard: iso(a.last_heard),
      })),
      agent_routes: agentRoutes,
      recent_packets: [],
    };
  });
}

export function nodeRowsByNum(db: Db, nums: number[]): Json[] {
  if (!nums.length) return [];
  const rows = db
    .prepare('SELECT * FROM nodes WHERE num IN (SELECT value FROM json_each(?))')
    .all(JSON.stringify(nums)) as NodeDbRow[];
  return nodeRows(db, rows);
}

export interface AgentDbRow {
  site: string;
  agent: string;
  location_name: string | null;
  lat: number | null;
  lon: number | null;
  first_seen: number;
  last_seen: number;
  packet_count: number;
  version: string | null;
  radio_state: string | null;
  my_node_num: number | null;
  status_json: string | null;
  status_at: number | null;
  source: string | null;
}

export function agentRow(a: AgentDbRow, now = Date.now()): Json {
  return {
    agent_id: a.agent,
    site: a.site,
    location_name: a.location_name ?? a.agent,
    coordinates: a.lat !== null && a.lon !== null ? [a.lat, a.lon] : null,
    last_seen: iso(a.last_seen),
    first_seen: iso(a.first_seen),
    packet_count: a.packet_count,
    status: now - a.last_seen <= ACTIVE_MS ? 'active' : 'inactive',
    radio_state: a.radio_state,
    version: a.version,
    my_node_id: a.my_node_num === null ? null : nodeIdFromNum(a.my_node_num),
    // The source of its latest reception (radio, mqtt, legacy-http, replay); radio for an agent that only sent status.
    source: a.source ?? (a.status_json !== null ? 'radio' : null),
  };
}

interface NameRow {
  num: number;
  short_name: string | null;
  long_name: string | null;
  hw_model: number | null;
  hw_model_name: string | null;
  role: number | null;
}

export function namesOf(db: Db, nums: Iterable<number>): Map<number, NameRow> {
  const list = [...new Set(nums)];
  const out = new Map<number, NameRow>();
  if (!list.length) return out;
  const rows = db
    .prepare(
      'SELECT num, short_name, long_name, hw_model, hw_model_name, role FROM nodes WHERE num IN (SELECT value FROM json_each(?))',
    )
    .all(JSON.stringify(list)) as NameRow[];
  for (const r of rows) out.set(r.num, r);
  return out;
}

function hopsOf(db: Db, nums: number[]): Map<number, number> {
  const out = new Map<number, number>();
  if (!nums.length) return out;
  const rows = db
    .prepare(
      'SELECT num, min(hops_away) AS h FROM node_agents WHERE hops_away IS NOT NULL AND num IN (SELECT value FROM json_each(?)) GROUP BY num',
    )
    .all(JSON.stringify(nums)) as { num: number; h: number }[];
  for (const r of rows) out.set(r.num, r.h);
  return out;
}

export interface ReceptionDbRow {
  id: string;
  site: string;
  agent: string;
  from_num: number;
  to_num: number;
  packet_id: number;
  port: string;
  channel: number | null;
  rx_time: number | null;
  received_at: number;
  snr: number | null;
  rssi: number | null;
  hop_start: number | null;
  hop_limit: number | null;
  relay_node: number | null;
  via_mqtt: number | null;
  source: string | null;
  payload: string | null;
  location_name?: string | null;
}

/** Fills agent location names from the projection (history stores know only agent ids). */
export function withLocations(db: Db, rows: ReceptionDbRow[]): ReceptionDbRow[] {
  if (!rows.length || rows[0]?.location_name !== undefined) return rows;
  const names = new Map(
    (
      db.prepare('SELECT site, agent, location_name FROM agents').all() as {
        site: string;
        agent: string;
        location_name: string | null;
      }[]
    ).map((a) => [`${a.site}\u0000${a.agent}`, a.location_name]),
  );
  for (const r of rows) r.location_name = names.get(`${r.site}\u0000${r.agent}`) ?? null;
  return rows;
}

/** Receptions as the original's /api/packets rows (names joined from the projection), plus the reception fields. */
export function packetRows(db: Db, rows: ReceptionDbRow[]): Json[] {
  const nums = [...new Set(rows.flatMap((r) => [r.from_num, r.to_num]))].filter((n) => n !== 0xffffffff);
  const names = namesOf(db, nums);
  const hops = hopsOf(db, nums);
  const side = (num: number) => {
    if (num === 0xffffffff) return { id: '^all', display: '^all', hw: null, role: null, hops: null };
    const n = names.get(num);
    return {
      id: nodeIdFromNum(num),
      display: display(n?.short_name, n?.long_name) ?? nodeIdFromNum(num),
      hw: n ? hwModelName(n.hw_model, n.hw_model_name) : null,
      role: n ? roleLabel(n.role) : null,
      hops: hops.get(num) ?? null,
    };
  };
  return rows.map((r) => {
    const f = side(r.from_num);
    const t = side(r.to_num);
    let payload: unknown = null;
    try {
      payload = r.payload ? packetPayload(r.port as Port, JSON.parse(r.payload) as Record<string, unknown>) : null;
    } catch {
      payload = null;
    }
    return {
      id: r.id,
      agent_id: r.agent,
      site: r.site,
      agent_location: r.location_name ?? r.agent,
      timestamp: iso(r.received_at),
      rx_time: iso(r.rx_time),
      from_node: f.id,
      from_node_display: f.display,
      from_hw_model: f.hw,
      from_role: f.role,
      from_hops: f.hops,
      to_node: t.id,
      to_node_display: t.display,
      to_hw_model: t.hw,
      to_role: t.role,
      to_hops: t.hops,
      type: typeNameOfPort(r.port),
      port: r.port,
      packet_id: r.packet_id,
      channel: r.channel,
      payload,
      rssi: r.rssi,
      snr: r.snr,
      hop_start: r.hop_start,
      hop_limit: r.hop_limit,
      hops: r.hop_start && r.hop_limit !== null && r.hop_start >= r.hop_limit ? r.hop_start - r.hop_limit : null,
      relay_node: r.relay_node,
      via_mqtt: r.via_mqtt === 1,
      source: r.source,
    };
  });
}

export function routeRows(db: Db, rows: TraceRow[]): Json[] {
  const names = namesOf(
    db,
    rows.flatMap((r) => [r.from_num, r.to_num]),
  );
  return rows.map((t) => {
    const towards = path(t.towards);
    const back = path(t.back);
    const s = names.get(t.from_num);
    const d = names.get(t.to_num);
    return {
      discovery_id: t.id,
      source_node_id: nodeRef(t.from_num),
      target_node_id: nodeRef(t.to_num),
      agent_id: t.agent,
      site: t.site,
      route_path: towards ? towards.route.map(nodeRef) : [],
      hop_count: towards ? towards.route.length - 1 : null,
      total_time_ms: t.finished_at - t.started_at,
      discovery_timestamp: iso(t.started_at),
      response_timestamp: iso(t.finished_at),
      success: t.outcome === 'success',
      outcome: t.outcome,
      snr_towards: towards?.snr ?? [],
      route_back: back ? back.route.map(nodeRef) : [],
      snr_back: back?.snr ?? [],
      trigger: t.trig,
      error: t.error,
      source_name: s?.short_name ?? null,
      source_long_name: s?.long_name ?? null,
      target_name: d?.short_name ?? null,
      target_long_name: d?.long_name ?? null,
      agent_location: t.location_name ?? t.agent,
    };
  });
}

export interface LinkDbRow {
  from_num: number;
  to_num: number;
  snr_latest: number | null;
  snr_median: number | null;
  samples: number;
  first_seen: number;
  last_seen: number;
  evidence: string;
  quality: number;
}

export function linkRow(l: LinkDbRow): Json {
  return {
    from_node_id: nodeIdFromNum(l.from_num),
    to_node_id: nodeIdFromNum(l.to_num),
    snr_latest: l.snr_latest,
    snr_median: l.snr_median,
    samples: l.samples,
    first_seen: iso(l.first_seen),
    last_seen: iso(l.last_seen),
    evidence: JSON.parse(l.evidence) as string[],
    quality: l.quality,
  };
}

export type { TraceRow };
