import { type MeshEvent, msgIds, subjects, tokenProblem } from '@mmm/schemas';
import {
  parseTime,
  receptionFromLegacy,
  snapshotFromNodeDb,
  statusFromRegister,
  traceFromLegacy,
} from '../legacy/convert.js';
import type { Row, Table } from './original.js';

export interface Out {
  subject: string;
  msgId: string;
  ev: MeshEvent;
}

/** Original agent ids are free text; subjects need tokens. Ids that are tokens already (all we know of) stay as they are. */
export function agentToken(id: unknown): string {
  if (typeof id === 'string' && !tokenProblem(id)) return id;
  const s = (typeof id === 'string' ? id : '').replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  return s || 'unknown';
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
const without = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));

function nodeSnapshot(
  site: string,
  agent: string,
  at: number,
  nodeId: unknown,
  entry: Record<string, unknown>,
  tag: string,
): Out {
  const ev = snapshotFromNodeDb(site, agent, at, { [String(nodeId)]: entry });
  return { subject: subjects.nodedb(site, agent), msgId: `${msgIds.nodedb(site, agent, at)}:import-${tag}`, ev };
}

/**
 * One row of the original's database as the event the live path would have published for it, with the original's
 * time. Receptions and traces get the live legacy path's Msg-Ids, so a row that also arrived live lands once.
 * Throws LegacyBodyError (a value problem of this row) or ContractError.
 */
export function eventOf(table: Table, site: string, r: Row): Out {
  switch (table) {
    case 'agents': {
      const agent = agentToken(r.agent_id);
      const at = parseTime(r.last_seen, 'last_seen');
      const ev = statusFromRegister(
        site,
        agent,
        { location: { name: str(r.location_name) ?? agent, coordinates: [r.location_lat, r.location_lon] } },
        at,
      );
      return { subject: subjects.status(site, agent), msgId: `${msgIds.status(site, agent, at)}:import`, ev };
    }
    case 'user_info': {
      const agent = agentToken(r.first_seen_by_agent ?? 'import');
      const at = parseTime(r.last_updated, 'last_updated');
      const lastHeard = num(r.last_heard);
      return nodeSnapshot(
        site,
        agent,
        at,
        r.node_id,
        without({
          user: without({
            id: r.node_id,
            long_name: r.long_name,
            short_name: r.short_name,
            macaddr: r.macaddr,
            hw_model: r.hw_model,
            role: r.role,
            is_licensed: r.is_licensed === null ? undefined : r.is_licensed === 1,
          }),
          deviceMetrics: without({
            battery_level: r.battery_level,
            voltage: r.voltage,
            channel_utilization: r.channel_utilization,
            air_util_tx: r.air_util_tx,
            uptime_seconds: r.uptime_seconds,
          }),
          lastHeard: lastHeard && lastHeard > 0 ? lastHeard : undefined,
          hopsAway: r.hops_away,
        }),
        `user:${String(r.node_id)}`,
      );
    }
    case 'nodes': {
      const agent = agentToken(r.agent_id);
      const at = parseTime(r.updated_at, 'updated_at');
      const lat = num(r.position_lat);
      const lon = num(r.position_lon);
      return nodeSnapshot(
        site,
        agent,
        at,
        r.node_id,
        without({
          position: lat !== undefined && lon !== undefined ? { latitude: lat, longitude: lon } : undefined,
          deviceMetrics: without({ battery_level: r.battery_level }),
          snr: r.snr,
          lastHeard: r.last_seen ? Math.floor(parseTime(r.last_seen, 'last_seen') / 1000) : undefined,
        }),
        `node:${String(r.node_id)}`,
      );
    }
    case 'node_name_history': {
      const agent = agentToken(r.changed_by_agent ?? 'import');
      const at = parseTime(r.changed_at, 'changed_at');
      return nodeSnapshot(
        site,
        agent,
        at,
        r.node_id,
        { user: without({ id: r.node_id, short_name: r.short_name, long_name: r.long_name }) },
        `name:${r._rowid}`,
      );
    }
    case 'network_routes': {
      const agent = agentToken(r.agent_id);
      const at = parseTime(r.discovery_timestamp, 'discovery_timestamp');
      const ev = traceFromLegacy(
        site,
        agent,
        at,
        {
          discovery_id: r.discovery_id,
          source_node_id: r.source_node_id,
          target_node_id: r.target_node_id,
          route_path: parseJson(r.route_path),
          discovery_timestamp: r.discovery_timestamp,
          ...(r.response_timestamp ? { response_timestamp: r.response_timestamp } : {}),
          success: r.success === 1 || r.success === true,
        },
        r._rowid,
      );
      return { subject: subjects.trace(site, agent), msgId: msgIds.trace(site, agent, ev.requestId), ev };
    }
    case 'packets': {
      const agent = agentToken(r.agent_id);
      const ev = receptionFromLegacy(
        site,
        agent,
        {
          type: r.type,
          timestamp: r.timestamp,
          from_node: r.from_node,
          to_node: r.to_node,
          packet_id: r.packet_id,
          channel: r.channel,
          payload: parseJson(r.payload),
          rssi: r.rssi,
          snr: r.snr,
          hop_limit: r.hop_limit,
          want_ack: r.want_ack === 1 || r.want_ack === true,
        },
        r._rowid,
      );
      const p = ev.packet;
      return {
        subject: subjects.rx(site, agent, ev.port),
        msgId: msgIds.reception(site, agent, p.from, p.id, p.rxTime, ev.receivedAt),
        ev,
      };
    }
  }
}

/** The original stored payloads as JSON text (Python json.dumps); text that is not JSON is kept as a string. */
function parseJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}
