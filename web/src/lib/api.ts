import {
  pairLinks,
  toAgent,
  toAgentHealth,
  toAlert,
  toLink,
  toMapConfig,
  toNameChange,
  toNode,
  toNodeDetail,
  toPacket,
  toPosition,
  toReception,
  toStats,
  toTelemetry,
  toTrace,
} from './normalize.js';
import { any, arr, obj, str } from './pick.js';
import { readToken } from './token.js';
import type {
  AgentHealth,
  AgentRow,
  AlertRow,
  LinkRow,
  MapConfig,
  NameChange,
  NodeDetail,
  NodeRow,
  PacketRow,
  PositionPoint,
  Reception,
  Stats,
  TelemetryPoint,
  TraceRow,
} from './types.js';

// The only module that knows URLs. Relative paths: the API serves this app at the same origin.

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly status: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type Params = Record<string, string | number | boolean | null | undefined>;

export function query(params: Params = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || v === 'all') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export async function getJson(path: string, params?: Params, signal?: AbortSignal): Promise<unknown> {
  let res: Response;
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = readToken();
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    res = await fetch(`${path}${query(params)}`, { headers, signal });
  } catch (cause) {
    throw new ApiError(`cannot reach the API (${path})`, null, { cause });
  }
  if (!res.ok) {
    let detail = '';
    try {
      detail = str(obj(await res.json()), 'error', 'message') ?? '';
    } catch {
      // not JSON: the status says enough
    }
    throw new ApiError(`${path}: HTTP ${res.status}${detail ? `: ${detail}` : ''}`, res.status);
  }
  try {
    return await res.json();
  } catch (cause) {
    throw new ApiError(`${path}: the response is not JSON`, res.status, { cause });
  }
}

/**
 * A download of an export (docs/api.md, "Exports"): used as a plain link, so the browser streams the file to disk
 * instead of holding it in the page. A link cannot carry a header: the read token, when there is one, rides as
 * `?token=` (which the API accepts on every read).
 */
export function exportHref(path: string, params: Params = {}): string {
  return `/api/export/${path}${query({ ...params, token: readToken() })}`;
}

/** The list inside `{key: [...]}`, or a bare array. */
function list(body: unknown, ...keys: string[]): unknown[] {
  if (Array.isArray(body)) return body;
  return arr(any(obj(body), ...keys));
}

export async function fetchStats(signal?: AbortSignal): Promise<Stats> {
  return toStats(await getJson('/api/stats', undefined, signal));
}

export async function fetchAgents(signal?: AbortSignal): Promise<AgentRow[]> {
  return list(await getJson('/api/agents', undefined, signal), 'agents').map((a) => toAgent(a));
}

export interface PacketQuery {
  hours?: number;
  limit?: number;
  type?: string;
  agent?: string;
  from?: string;
  to?: string;
  channel?: number | string;
}

export async function fetchPackets(f: PacketQuery, signal?: AbortSignal): Promise<PacketRow[]> {
  const body = await getJson(
    '/api/packets',
    {
      hours: f.hours,
      limit: f.limit,
      type: f.type,
      agent_id: f.agent,
      from_node: f.from,
      to_node: f.to,
      channel: f.channel,
    },
    signal,
  );
  return list(body, 'packets').map((p, i) => toPacket(p, i));
}

export async function fetchReceptions(from: string, packetId: number, signal?: AbortSignal): Promise<Reception[]> {
  const body = await getJson(`/api/packets/${encodeURIComponent(from)}/${packetId}/receptions`, undefined, signal);
  return list(body, 'receptions').map(toReception);
}

export async function fetchNodes(
  f: { hours?: number; limit?: number; agent?: string } = {},
  signal?: AbortSignal,
): Promise<NodeRow[]> {
  const body = await getJson('/api/nodes/detailed', { hours: f.hours, limit: f.limit, agent_id: f.agent }, signal);
  return list(body, 'nodes').map(toNode);
}

export async function fetchNodeDetail(id: string, hours: number, signal?: AbortSignal): Promise<NodeDetail> {
  return toNodeDetail(await getJson(`/api/nodes/${encodeURIComponent(id)}/details`, { hours }, signal));
}

export const TELEMETRY_VARIANTS = [
  'deviceMetrics',
  'environmentMetrics',
  'powerMetrics',
  'airQualityMetrics',
  'localStats',
  'healthMetrics',
  'hostMetrics',
] as const;
export type TelemetryVariant = (typeof TELEMETRY_VARIANTS)[number];

export async function fetchTelemetry(
  id: string,
  variant: TelemetryVariant,
  hours: number,
  signal?: AbortSignal,
): Promise<TelemetryPoint[]> {
  const body = await getJson(`/api/nodes/${encodeURIComponent(id)}/telemetry`, { variant, hours, limit: 5000 }, signal);
  return list(body, 'points')
    .map(toTelemetry)
    .filter((p): p is TelemetryPoint => p !== null);
}

export async function fetchPositions(id: string, hours: number, signal?: AbortSignal): Promise<PositionPoint[]> {
  const body = await getJson(`/api/nodes/${encodeURIComponent(id)}/positions`, { hours, limit: 5000 }, signal);
  return list(body, 'positions')
    .map(toPosition)
    .filter((p): p is PositionPoint => p !== null);
}

export async function fetchNameHistory(id: string, signal?: AbortSignal): Promise<NameChange[]> {
  const body = await getJson(`/api/nodes/${encodeURIComponent(id)}/name-history`, undefined, signal);
  return list(body, 'history').map(toNameChange);
}

export async function fetchLinks(f: { hours?: number; agent?: string } = {}, signal?: AbortSignal): Promise<LinkRow[]> {
  const body = await getJson('/api/connections', { hours: f.hours, agent_id: f.agent }, signal);
  return pairLinks(list(body, 'connections', 'links').map(toLink));
}

/** Traceroute outcomes, timeouts included (`/api/traceroutes`). */
export async function fetchTraces(
  f: { hours?: number; agent?: string; source?: string; target?: string; limit?: number } = {},
  signal?: AbortSignal,
): Promise<TraceRow[]> {
  const body = await getJson(
    '/api/traceroutes',
    { hours: f.hours, agent_id: f.agent, source_node: f.source, target_node: f.target, limit: f.limit },
    signal,
  );
  return list(body, 'routes', 'traces').map(toTrace);
}

export async function fetchAgentHealth(id: string, signal?: AbortSignal): Promise<AgentHealth> {
  return toAgentHealth(await getJson(`/api/agents/${encodeURIComponent(id)}/status`, undefined, signal));
}

export interface TopologyGraph {
  readonly nodes: NodeRow[];
  readonly links: LinkRow[];
}

export async function fetchTopologyGraph(signal?: AbortSignal): Promise<TopologyGraph> {
  const body = obj(await getJson('/api/topology/graph', undefined, signal));
  return { nodes: arr(body.nodes).map(toNode), links: arr(body.links).map(toLink) };
}

export async function fetchMapConfig(signal?: AbortSignal): Promise<MapConfig> {
  return toMapConfig(await getJson('/api/map/config', undefined, signal));
}

export async function fetchAlerts(signal?: AbortSignal): Promise<AlertRow[]> {
  return list(await getJson('/api/alerts', undefined, signal), 'alerts')
    .map(toAlert)
    .filter((a): a is AlertRow => a !== null);
}

/** POSTs JSON; alert writes need a token with scope alerts-write (kept like the read token, `?token=`). */
export async function postJson(path: string, body: unknown): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' };
  const token = readToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
  } catch (cause) {
    throw new ApiError(`cannot reach the API (${path})`, null, { cause });
  }
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    const detail = str(obj(json), 'message', 'error') ?? '';
    throw new ApiError(`${path}: HTTP ${res.status}${detail ? `: ${detail}` : ''}`, res.status);
  }
  return json;
}

export async function ackAlert(id: string): Promise<void> {
  await postJson(`/api/alerts/${encodeURIComponent(id)}/ack`, {});
}

export async function silenceAlerts(s: { rule?: string; node_id?: string; until: number }): Promise<void> {
  await postJson('/api/alerts/silences', s);
}
