import {
  type AgentStatus,
  type MeshEvent,
  msgIds,
  type NodeDbSnapshot,
  type Reception,
  type TopologyUpdate,
  type TraceOutcome,
} from '@mmm/schemas';
import { macFromBase64 } from '@mmm/schemas/legacy';
import type { Db } from '../store/db.js';
import { agentKey, type Changes } from './changes.js';
import { BatchCounters, type CounterStatements } from './counters.js';

type Num = number | null | undefined;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const HOUR_MS = 3_600_000;

/** Node fields an event may set; null/undefined leaves the stored value alone. */
interface NodePatch {
  short_name?: string | null;
  long_name?: string | null;
  macaddr?: string | null;
  hw_model?: Num;
  hw_model_name?: string | null;
  role?: Num;
  is_licensed?: Num;
  public_key?: string | null;
  lat?: Num;
  lon?: Num;
  alt?: Num;
  position_at?: Num;
  battery_level?: Num;
  voltage?: Num;
  channel_utilization?: Num;
  air_util_tx?: Num;
  uptime_seconds?: Num;
  firmware_version?: string | null;
  region?: Num;
  modem_preset?: Num;
}
const PATCH_COLS = [
  'short_name',
  'long_name',
  'macaddr',
  'hw_model',
  'hw_model_name',
  'role',
  'is_licensed',
  'public_key',
  'lat',
  'lon',
  'alt',
  'position_at',
  'battery_level',
  'voltage',
  'channel_utilization',
  'air_util_tx',
  'uptime_seconds',
  'firmware_version',
  'region',
  'modem_preset',
] as const;

function positionPatch(p: Record<string, unknown> | undefined, at: number): NodePatch {
  if (!p) return {};
  const lat = num(p.latitude) ?? (num(p.latitudeI) !== null ? (p.latitudeI as number) / 1e7 : null);
  const lon = num(p.longitude) ?? (num(p.longitudeI) !== null ? (p.longitudeI as number) / 1e7 : null);
  // (0,0) is what a radio without a fix sends; it is not a position.
  if (lat === null || lon === null || (lat === 0 && lon === 0) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return {};
  return { lat, lon, alt: num(p.altitude), position_at: at };
}

function userPatch(u: Record<string, unknown> | undefined): NodePatch {
  if (!u) return {};
  return {
    short_name: typeof u.shortName === 'string' ? u.shortName : null,
    long_name: typeof u.longName === 'string' ? u.longName : null,
    macaddr: macFromBase64(u.macaddr),
    hw_model: num(u.hwModel),
    hw_model_name: typeof u.hwModelName === 'string' ? u.hwModelName : null,
    // CLIENT (0) is the protobuf default and absent on the wire: a user without a role is a CLIENT.
    role: num(u.role) ?? 0,
    is_licensed: typeof u.isLicensed === 'boolean' ? Number(u.isLicensed) : null,
    public_key: typeof u.publicKey === 'string' && u.publicKey ? u.publicKey : null,
  };
}

function deviceMetricsPatch(m: Record<string, unknown> | undefined): NodePatch {
  if (!m) return {};
  return {
    battery_level: num(m.batteryLevel),
    voltage: num(m.voltage),
    channel_utilization: num(m.channelUtilization),
    air_util_tx: num(m.airUtilTx),
    uptime_seconds: num(m.uptimeSeconds),
  };
}

/**
 * Applies contract events to the projection. Each method is idempotent for a redelivered event: receptions and traces
 * are keyed by their Msg-Id and counters only move when the row is new; everything else is an upsert of the latest state.
 */
export class ProjectionWriter {
  private readonly insertRx;
  private readonly upsertAgentSeen;
  private readonly upsertNodeSeen;
  private readonly upsertNodeAgent;
  private readonly ensureNode;
  private readonly bumpPort;
  private readonly selectNames;
  private readonly selectSignedRx;
  private readonly insertName;
  private readonly upsertNodeAgentDb;
  private readonly insertTrace;
  private readonly upsertAgentStatus;
  private readonly insertStatus;
  private readonly upsertLink;
  private readonly deleteLink;
  private readonly setHops;
  private readonly upsertNodeSpan;
  private readonly patchStmts = new Map<string, ReturnType<Db['prepare']>>();
  private readonly counters = new BatchCounters();
  private readonly counterStmts: CounterStatements;

  constructor(private readonly db: Db) {
    this.insertRx = db.prepare(`INSERT OR IGNORE INTO receptions
      (id, site, agent, from_num, to_num, packet_id, port, channel, rx_time, received_at, snr, rssi, hop_start, hop_limit, relay_node, via_mqtt, source, payload)
      VALUES (@id, @site, @agent, @from_num, @to_num, @packet_id, @port, @channel, @rx_time, @received_at, @snr, @rssi, @hop_start, @hop_limit, @relay_node, @via_mqtt, @source, @payload)`);
    this.upsertAgentSeen =
      db.prepare(`INSERT INTO agents (site, agent, first_seen, last_seen, packet_count, source) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(site, agent) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen), packet_count = packet_count + excluded.packet_count,
        source = coalesce(excluded.source, source)`);
    this.upsertNodeSeen =
      db.prepare(`INSERT INTO nodes (num, first_seen, updated_at, last_heard, packet_count) VALUES (@num, @at, @at, @heard, @count)
      ON CONFLICT(num) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), updated_at = max(updated_at, excluded.updated_at),
        last_heard = max(coalesce(last_heard, 0), coalesce(excluded.last_heard, 0)), packet_count = packet_count + excluded.packet_count`);
    // The same for a batch's receptions of one node, summed (BatchCounters): first and last time apart.
    this.upsertNodeSpan =
      db.prepare(`INSERT INTO nodes (num, first_seen, updated_at, last_heard, packet_count) VALUES (@num, @first, @last, @last, @count)
      ON CONFLICT(num) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), updated_at = max(updated_at, excluded.updated_at),
        last_heard = max(coalesce(last_heard, 0), coalesce(excluded.last_heard, 0)), packet_count = packet_count + excluded.packet_count`);
    this.ensureNode = db.prepare(
      `INSERT INTO nodes (num, first_seen, updated_at) VALUES (?, ?, ?) ON CONFLICT(num) DO UPDATE SET updated_at = max(updated_at, excluded.updated_at)`,
    );
    this.upsertNodeAgent =
      db.prepare(`INSERT INTO node_agents (num, site, agent, last_heard, updated_at, hops_away, snr, rssi, packet_count)
      VALUES (@num, @site, @agent, @heard, @heard, @hops, @snr, @rssi, 1)
      ON CONFLICT(num, site, agent) DO UPDATE SET
        hops_away = CASE WHEN excluded.last_heard >= coalesce(last_heard, 0) THEN coalesce(excluded.hops_away, hops_away) ELSE hops_away END,
        snr = CASE WHEN excluded.last_heard >= coalesce(last_heard, 0) THEN excluded.snr ELSE snr END,
        rssi = CASE WHEN excluded.last_heard >= coalesce(last_heard, 0) THEN excluded.rssi ELSE rssi END,
        last_heard = max(coalesce(last_heard, 0), excluded.last_heard), updated_at = max(updated_at, excluded.updated_at),
        packet_count = packet_count + 1`);
    this.upsertNodeAgentDb =
      db.prepare(`INSERT INTO node_agents (num, site, agent, last_heard, updated_at, hops_away, snr, packet_count)
      VALUES (@num, @site, @agent, @heard, @at, @hops, @snr, 0)
      ON CONFLICT(num, site, agent) DO UPDATE SET
        last_heard = CASE WHEN excluded.last_heard IS NULL THEN last_heard ELSE max(coalesce(last_heard, 0), excluded.last_heard) END,
        updated_at = max(updated_at, excluded.updated_at), hops_away = coalesce(excluded.hops_away, hops_away), snr = coalesce(excluded.snr, snr)`);
    this.bumpPort = db.prepare(
      `INSERT INTO port_counts (hour, port, n) VALUES (?, ?, ?) ON CONFLICT(hour, port) DO UPDATE SET n = n + excluded.n`,
    );
    this.selectNames = db.prepare('SELECT short_name, long_name FROM nodes WHERE num = ?');
    // A protobuf (not JSON-uplink) reception of one packet; the rx_packet index answers it.
    this.selectSignedRx = db.prepare(
      "SELECT 1 FROM receptions WHERE from_num = ? AND packet_id = ? AND id NOT LIKE '%:json' LIMIT 1",
    );
    this.insertName = db.prepare(
      'INSERT INTO name_history (num, short_name, long_name, changed_at, site, agent) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insertTrace =
      db.prepare(`INSERT OR IGNORE INTO traces (id, site, agent, request_id, from_num, to_num, started_at, finished_at, outcome, trig, towards, back, error)
      VALUES (@id, @site, @agent, @request_id, @from_num, @to_num, @started_at, @finished_at, @outcome, @trig, @towards, @back, @error)`);
    this.upsertAgentStatus =
      db.prepare(`INSERT INTO agents (site, agent, location_name, lat, lon, first_seen, last_seen, version, radio_state, my_node_num, status_json, status_at)
      VALUES (@site, @agent, @name, @lat, @lon, @at, @at, @version, @state, @my, @json, @at)
      ON CONFLICT(site, agent) DO UPDATE SET
        location_name = CASE WHEN excluded.status_at >= coalesce(status_at, 0) THEN excluded.location_name ELSE location_name END,
        lat = CASE WHEN excluded.status_at >= coalesce(status_at, 0) THEN excluded.lat ELSE lat END,
        lon = CASE WHEN excluded.status_at >= coalesce(status_at, 0) THEN excluded.lon ELSE lon END,
        version = CASE WHEN excluded.status_at >= coalesce(status_at, 0) THEN excluded.version ELSE version END,
        radio_state = CASE WHEN excluded.status_at >= coalesce(status_at, 0) THEN excluded.radio_state ELSE radio_state END,
        my_node_num = CASE WHEN excluded.status_at >= coalesce(status_at, 0) THEN coalesce(excluded.my_node_num, my_node_num) ELSE my_node_num END,
        status_json = CASE WHEN excluded.status_at >= coalesce(status_at, 0) THEN excluded.status_json ELSE status_json END,
        last_seen = max(last_seen, excluded.last_seen), status_at = max(coalesce(status_at, 0), excluded.status_at)`);
    this.insertStatus = db.prepare('INSERT OR IGNORE INTO agent_status (site, agent, at, json) VALUES (?, ?, ?, ?)');
    this.upsertLink =
      db.prepare(`INSERT INTO links (from_num, to_num, snr_latest, snr_median, samples, first_seen, last_seen, evidence, quality)
      VALUES (@from, @to, @snrLatest, @snrMedian, @samples, @firstSeen, @lastSeen, @evidence, @quality)
      ON CONFLICT(from_num, to_num) DO UPDATE SET snr_latest = excluded.snr_latest, snr_median = excluded.snr_median, samples = excluded.samples,
        first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen), evidence = excluded.evidence, quality = excluded.quality
      WHERE excluded.last_seen >= links.last_seen`);
    this.deleteLink = db.prepare('DELETE FROM links WHERE from_num = ? AND to_num = ?');
    this.setHops =
      db.prepare(`INSERT INTO node_agents (num, site, agent, updated_at, hops_away, packet_count) VALUES (?, ?, ?, ?, ?, 0)
      ON CONFLICT(num, site, agent) DO UPDATE SET hops_away = excluded.hops_away`);
    this.counterStmts = {
      agentSeen: (site, agent, first, last, count, source) =>
        this.upsertAgentSeen.run(site, agent, first, last, count, source),
      nodeSeen: (num, first, last, count) => this.upsertNodeSpan.run({ num, first, last, count }),
      port: (hour, port, n) => this.bumpPort.run(hour, port, n),
    };
  }

  /** One event; its counters are written at once. */
  apply(ev: MeshEvent, ch: Changes): void {
    this.applyBatch([ev], ch);
  }

  /**
   * A batch of events, inside the caller's transaction: the receptions' counters are summed and written once per
   * agent, node and hour at the end.
   */
  applyBatch(events: Iterable<MeshEvent>, ch: Changes): void {
    // Sums of a batch whose transaction failed (rolled back, redelivered) must not reach the next one.
    this.counters.reset();
    for (const ev of events) this.applyOne(ev, ch);
    this.counters.flush(this.counterStmts);
  }

  private applyOne(ev: MeshEvent, ch: Changes): void {
    switch (ev.kind) {
      case 'reception':
        this.reception(ev, ch);
        break;
      case 'nodedb':
        this.nodedb(ev, ch);
        break;
      case 'trace':
        this.trace(ev, ch);
        break;
      case 'status':
        this.status(ev, ch);
        break;
      case 'topology':
        this.topology(ev, ch);
        break;
      default:
        break;
    }
  }

  private patchNode(numv: number, patch: NodePatch, at: number): boolean {
    const cols = PATCH_COLS.filter((c) => patch[c] !== undefined && patch[c] !== null);
    this.ensureNode.run(numv, at, at);
    if (cols.length === 0) return false;
    const key = cols.join(',');
    let stmt = this.patchStmts.get(key);
    if (!stmt) {
      stmt = this.db.prepare(`UPDATE nodes SET ${cols.map((c) => `${c} = @${c}`).join(', ')} WHERE num = @num`);
      this.patchStmts.set(key, stmt);
    }
    const params: Record<string, unknown> = { num: numv };
    for (const c of cols) params[c] = patch[c];
    stmt.run(params);
    return true;
  }

  /** Records a name change only when a name really changed (not when a field is merely absent). */
  private names(numv: number, user: NodePatch, at: number, site: string, agent: string): void {
    if (!user.short_name && !user.long_name) return;
    const cur = this.selectNames.get(numv) as { short_name: string | null; long_name: string | null } | undefined;
    const short = user.short_name ?? cur?.short_name ?? null;
    const long = user.long_name ?? cur?.long_name ?? null;
    if (cur && cur.short_name === short && cur.long_name === long) return;
    this.insertName.run(numv, short, long, at, site, agent);
  }

  private reception(ev: Reception, ch: Changes): void {
    const p = ev.packet;
    const id = msgIds.receptionOf(ev);
    const hops = p.hopStart > 0 && p.hopStart >= p.hopLimit ? p.hopStart - p.hopLimit : null;
    const res = this.insertRx.run({
      id,
      site: ev.site,
      agent: ev.agent,
      from_num: p.from,
      to_num: p.to,
      packet_id: p.id,
      port: ev.port,
      channel: p.channel,
      rx_time: p.rxTime > 0 ? p.rxTime * 1000 : null,
      received_at: ev.receivedAt,
      snr: p.rxSnr,
      rssi: p.rxRssi,
      hop_start: p.hopStart,
      hop_limit: p.hopLimit,
      relay_node: p.relayNode,
      via_mqtt: p.viaMqtt ? 1 : 0,
      source: ev.source,
      payload: JSON.stringify(ev.payload),
    });
    if (res.changes === 0) return; // redelivery
    const at = ev.receivedAt;
    ch.receptions.push(id);
    // An undecryptable packet still proves the sender is on the air (the node's row: counters.flush).
    this.counters.reception(ev.site, ev.agent, p.from, ev.port, Math.floor(at / HOUR_MS), at, ev.source);
    ch.agents.add(agentKey(ev.site, ev.agent));
    this.upsertNodeAgent.run({
      num: p.from,
      site: ev.site,
      agent: ev.agent,
      heard: at,
      hops,
      snr: p.rxSnr,
      rssi: p.rxRssi,
    });
    ch.nodes.add(p.from);
    // MQTT JSON uplink is unauthenticated: it never overrides what a protobuf reception of the packet says.
    if (ev.mqtt?.unauthenticated && this.selectSignedRx.get(p.from, p.id)) return;
    const pl = ev.payload as Record<string, unknown>;
    if (ev.port === 'position') this.patchNode(p.from, positionPatch(pl, at), at);
    else if (ev.port === 'nodeinfo') {
      const u = userPatch(pl);
      this.names(p.from, u, at, ev.site, ev.agent);
      this.patchNode(p.from, u, at);
    } else if (ev.port === 'telemetry')
      this.patchNode(p.from, deviceMetricsPatch(pl.deviceMetrics as Record<string, unknown>), at);
    else if (ev.port === 'mapreport') {
      const u = userPatch(pl);
      this.names(p.from, u, at, ev.site, ev.agent);
      this.patchNode(
        p.from,
        {
          ...u,
          ...positionPatch(pl, at),
          firmware_version: (pl.firmwareVersion as string) ?? null,
          region: num(pl.region),
          modem_preset: num(pl.modemPreset),
        },
        at,
      );
    }
  }

  private nodedb(ev: NodeDbSnapshot, ch: Changes): void {
    const at = ev.takenAt;
    for (const n of ev.nodes) {
      const heard = n.lastHeard ? n.lastHeard * 1000 : null;
      const u = userPatch(n.user as Record<string, unknown> | undefined);
      if (n.user) this.names(n.num, u, at, ev.site, ev.agent);
      this.patchNode(
        n.num,
        {
          ...(n.user ? u : {}),
          ...positionPatch(n.position as Record<string, unknown>, at),
          ...deviceMetricsPatch(n.deviceMetrics),
        },
        at,
      );
      if (heard) this.upsertNodeSeen.run({ num: n.num, at, heard, count: 0 });
      this.upsertNodeAgentDb.run({
        num: n.num,
        site: ev.site,
        agent: ev.agent,
        heard,
        at,
        hops: n.hopsAway ?? null,
        snr: n.snr ?? null,
      });
      ch.nodes.add(n.num);
    }
    if (ev.myNodeNum !== undefined)
      this.db
        .prepare('UPDATE agents SET my_node_num = ? WHERE site = ? AND agent = ?')
        .run(ev.myNodeNum, ev.site, ev.agent);
    this.upsertAgentSeen.run(ev.site, ev.agent, at, at, 0, null);
    ch.agents.add(agentKey(ev.site, ev.agent));
  }

  private trace(ev: TraceOutcome, ch: Changes): void {
    const id = msgIds.trace(ev.site, ev.agent, ev.requestId);
    const res = this.insertTrace.run({
      id,
      site: ev.site,
      agent: ev.agent,
      request_id: ev.requestId,
      from_num: ev.from,
      to_num: ev.to,
      started_at: ev.startedAt,
      finished_at: ev.finishedAt,
      outcome: ev.outcome,
      trig: ev.trigger ?? null,
      towards: ev.towards ? JSON.stringify(ev.towards) : null,
      back: ev.back ? JSON.stringify(ev.back) : null,
      error: ev.error ?? null,
    });
    if (res.changes === 0) return;
    ch.traces.push(id);
    this.upsertAgentSeen.run(ev.site, ev.agent, ev.finishedAt, ev.finishedAt, 0, null);
    if (ev.outcome === 'success') {
      this.ensureNode.run(ev.to, ev.finishedAt, ev.finishedAt);
      ch.nodes.add(ev.to);
    }
  }

  private status(ev: AgentStatus, ch: Changes): void {
    const json = JSON.stringify(ev);
    this.upsertAgentStatus.run({
      site: ev.site,
      agent: ev.agent,
      name: ev.location.name,
      lat: ev.location.lat,
      lon: ev.location.lon,
      at: ev.at,
      version: ev.version,
      state: ev.radio.state,
      my: ev.radio.myNodeNum ?? null,
      json,
    });
    this.insertStatus.run(ev.site, ev.agent, ev.at, json);
    ch.agents.add(agentKey(ev.site, ev.agent));
    if (ev.radio.myNodeNum !== undefined) {
      const r = ev.radio;
      this.patchNode(
        r.myNodeNum!,
        {
          firmware_version: r.firmwareVersion ?? null,
          region: num(r.region),
          modem_preset: num(r.modemPreset),
          hw_model: num(r.hwModel),
        },
        ev.at,
      );
      ch.nodes.add(r.myNodeNum!);
    }
  }

  private topology(ev: TopologyUpdate, ch: Changes): void {
    for (const l of ev.links ?? []) {
      this.upsertLink.run({ ...l, evidence: JSON.stringify(l.evidence) });
      ch.links.push({ from: l.from, to: l.to });
    }
    for (const l of ev.removedLinks ?? []) {
      this.deleteLink.run(l.from, l.to);
      ch.removedLinks.push(l);
    }
    if (ev.hops) {
      for (const [n, d] of Object.entries(ev.hops.distances)) {
        this.setHops.run(Number(n), ev.hops.site, ev.hops.agent, ev.at, d);
        ch.nodes.add(Number(n));
      }
    }
  }

  /** Drops history older than the retention: receptions, traces, status rows, name history stays. */
  prune(keepMs: number, now = Date.now()): void {
    const cutoff = now - keepMs;
    this.db.prepare('DELETE FROM receptions WHERE received_at < ?').run(cutoff);
    this.db.prepare('DELETE FROM traces WHERE finished_at < ?').run(cutoff);
    this.db.prepare('DELETE FROM agent_status WHERE at < ?').run(cutoff);
    // Hourly counters are tiny: keep a year so /api/stats totals outlive the receptions themselves.
    this.db.prepare('DELETE FROM port_counts WHERE hour < ?').run(Math.floor((now - 366 * 24 * HOUR_MS) / HOUR_MS));
  }
}
