import {
  type AgentStatus,
  assertEvent,
  type MeshEvent,
  type NodeDbSnapshot,
  PORTNUM,
  type Port,
  type Reception,
  subjects,
  type TraceOutcome,
} from '@mmm/schemas';
import { mulberry32 } from '@mmm/testkit';

export { mulberry32 };

// A deterministic hour of mesh traffic built from the contract types, with the row counts every table must end up
// with computed from the generated structure (not from ingest's own logic).

export interface SimEvent {
  readonly subject: string;
  readonly event: MeshEvent;
  /** Publish time order. */
  readonly at: number;
}

export type Expected = Record<
  | 'receptions'
  | 'packets'
  | 'positions'
  | 'telemetry'
  | 'text_messages'
  | 'node_info'
  | 'traceroutes'
  | 'traceroute_hops'
  | 'neighbor_edges'
  | 'agent_status'
  | 'nodedb'
  | 'telemetry_zero_values'
  | 'device_rollup_samples',
  number
>;

export interface SimHour {
  readonly events: SimEvent[];
  readonly base: number;
  readonly expected: Expected;
}

const AGENTS = [
  { site: 's1', agent: 'a1', node: 0x0a000001 },
  { site: 's1', agent: 'a2', node: 0x0a000002 },
  { site: 's2', agent: 'b1', node: 0x0a000003 },
] as const;

const PORTNUMS: Partial<Record<Port, number>> = {
  text: PORTNUM.TEXT_MESSAGE_APP,
  position: PORTNUM.POSITION_APP,
  nodeinfo: PORTNUM.NODEINFO_APP,
  telemetry: PORTNUM.TELEMETRY_APP,
  traceroute: PORTNUM.TRACEROUTE_APP,
  neighborinfo: PORTNUM.NEIGHBORINFO_APP,
};

/** Yesterday 10:00 UTC: inside every retention window, one day partition, whole hours. */
export function defaultBase(now = Date.now()): number {
  const day = 86_400_000;
  return Math.floor(now / day) * day - day + 10 * 3_600_000;
}

export function simulateHour(seed = 42, base = defaultBase(), nodeCount = 20): SimHour {
  const rnd = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const nodes = Array.from({ length: nodeCount }, (_, i) => 0x10000001 + i);
  const names = new Map(nodes.map((n, i) => [n, { longName: `Node ${i} 'quoted' \\ émoji 🛰️`, shortName: `N${i}` }]));
  const renamed = new Set(nodes.filter((_, i) => i % 7 === 3));
  const events: SimEvent[] = [];
  const ex = {
    receptions: 0,
    packets: 0,
    positions: 0,
    telemetry: 0,
    text_messages: 0,
    node_info: 0,
    traceroutes: 0,
    traceroute_hops: 0,
    neighbor_edges: 0,
    agent_status: 0,
    nodedb: 0,
    telemetry_zero_values: 0,
    device_rollup_samples: 0,
  };
  let nextId = 0x1000;

  const heard = (
    from: number,
    to: number,
    port: Port,
    payload: unknown,
    t: number,
    extra: { requestId?: number } = {},
  ) => {
    const id = nextId++;
    ex.packets++;
    const hopStart = int(0, 1) === 0 ? 0 : 3;
    const hearers = AGENTS.filter(() => rnd() < 0.6);
    if (hearers.length === 0) hearers.push(AGENTS[int(0, 2)]!);
    for (const a of hearers) {
      const receivedAt = t + int(0, 400);
      const ev: Reception = assertEvent({
        v: 1,
        kind: 'reception',
        site: a.site,
        agent: a.agent,
        receivedAt,
        source: 'radio',
        port,
        packet: {
          from,
          to,
          id,
          channel: 0,
          rxTime: Math.floor(receivedAt / 1000),
          rxSnr: int(-80, 40) / 4,
          rxRssi: int(-130, -40),
          hopStart,
          hopLimit: hopStart === 0 ? 0 : int(0, hopStart),
          relayNode: from & 0xff,
          nextHop: 0,
          wantAck: false,
          viaMqtt: false,
          priority: 64,
          pkiEncrypted: false,
        },
        encryption: 'decrypted',
        data: {
          portnum: PORTNUMS[port] ?? 0,
          wantResponse: false,
          dest: 0,
          source: 0,
          requestId: extra.requestId ?? 0,
          replyId: 0,
          emoji: 0,
        },
        payload,
        channelName: 'LongFast',
        raw: 'AAEC',
      } as unknown as Reception);
      events.push({ subject: subjects.rx(a.site, a.agent, port), event: ev, at: receivedAt });
      ex.receptions++;
    }
  };

  for (const [i, node] of nodes.entries()) {
    const offset = int(0, 60_000);
    for (let k = 0; k < 4; k++) {
      const t = base + offset + k * 900_000;
      heard(
        node,
        0xffffffff,
        'position',
        {
          latitudeI: 520_000_000 + int(0, 1_000_000),
          longitudeI: 134_000_000 + int(0, 1_000_000),
          altitude: int(0, 120),
          time: Math.floor(t / 1000),
          precisionBits: 32,
          satsInView: int(0, 12),
        },
        t,
      );
      ex.positions++;
    }
    for (let k = 0; k < 6; k++) {
      const t = base + offset + 30_000 + k * 600_000;
      const device = {
        batteryLevel: k === 0 && i % 5 === 0 ? 0 : int(1, 101),
        voltage: int(330, 420) / 100,
        channelUtilization: k === 1 ? 0 : int(0, 400) / 10,
        airUtilTx: i % 4 === 0 ? 0 : int(0, 80) / 10,
        uptimeSeconds: int(0, 1e6),
      };
      heard(node, 0xffffffff, 'telemetry', { time: Math.floor(t / 1000), deviceMetrics: device }, t);
      ex.telemetry += 5;
      ex.telemetry_zero_values += Object.values(device).filter((v) => v === 0).length;
      ex.device_rollup_samples += 2;
    }
    for (let k = 0; k < 2; k++) {
      const t = base + offset + 60_000 + k * 1_800_000;
      const env = {
        temperature: int(-50, 300) / 10,
        relativeHumidity: int(0, 100),
        barometricPressure: 1013.25,
        lux: 0,
      };
      heard(node, 0xffffffff, 'telemetry', { time: Math.floor(t / 1000), environmentMetrics: env }, t);
      ex.telemetry += 4;
      ex.telemetry_zero_values += Object.values(env).filter((v) => v === 0).length;
    }
    const nameOf = (t: number) => {
      const nm = names.get(node)!;
      return renamed.has(node) && t >= base + 1_800_000 ? { ...nm, longName: `${nm.longName} v2` } : nm;
    };
    for (const t of [base + offset + 120_000, base + 2_000_000 + offset]) {
      heard(
        node,
        0xffffffff,
        'nodeinfo',
        { id: `!${node.toString(16)}`, ...nameOf(t), hwModel: 9, role: i % 3 === 0 ? undefined : 2 },
        t,
      );
    }
    ex.node_info += renamed.has(node) ? 2 : 1;
    const texts = int(0, 3);
    for (let k = 0; k < texts; k++) {
      const t = base + int(0, 3_500_000);
      heard(
        node,
        k === 0 ? nodes[(i + 1) % nodes.length]! : 0xffffffff,
        'text',
        { text: `hello ${k} from ${i}\n'; DROP TABLE x; --` },
        t,
      );
      ex.text_messages++;
    }
    if (i % 4 === 0) {
      const t = base + int(0, 3_500_000);
      const neighbors = [1, 2, 3].map((d) => ({
        nodeId: nodes[(i + d) % nodes.length]!,
        snr: int(-40, 40) / 4,
        lastRxTime: Math.floor(t / 1000),
      }));
      heard(node, 0xffffffff, 'neighborinfo', { nodeId: node, nodeBroadcastIntervalSecs: 14_400, neighbors }, t);
      ex.neighbor_edges += 3;
    }
    if (i % 6 === 1) {
      // A traceroute reply from this node to the requester a1, overheard: forward path through one relay.
      const t = base + int(0, 3_500_000);
      const relay = nodes[(i + 2) % nodes.length]!;
      heard(
        node,
        AGENTS[0].node,
        'traceroute',
        { route: [relay], snrTowards: [24, -128], routeBack: [relay], snrBack: [12, 8] },
        t,
        {
          requestId: 0x5000 + i,
        },
      );
      ex.traceroutes++;
      ex.traceroute_hops += 4;
    }
  }

  for (const [ai, a] of AGENTS.entries()) {
    for (let k = 0; k < 4; k++) {
      const startedAt = base + 300_000 + k * 840_000 + ai * 1000;
      const to = nodes[(ai * 4 + k) % nodes.length]!;
      const timeout = k === 3;
      const relay = nodes[(ai * 4 + k + 5) % nodes.length]!;
      const trace: TraceOutcome = assertEvent({
        v: 1,
        kind: 'trace',
        site: a.site,
        agent: a.agent,
        requestId: 0x9000 + ai * 16 + k,
        from: a.node,
        to,
        startedAt,
        finishedAt: startedAt + (timeout ? 30_000 : 4_200),
        outcome: timeout ? 'timeout' : 'success',
        trigger: 'sweep',
        hopLimit: 7,
        channel: 0,
        ...(timeout
          ? {}
          : {
              towards: { route: [a.node, relay, to], snr: [6.25, null] },
              back: k === 2 ? null : { route: [to, relay, a.node], snr: [-3.5, 2] },
            }),
      } as TraceOutcome);
      events.push({ subject: subjects.trace(a.site, a.agent), event: trace, at: trace.finishedAt });
      ex.traceroutes++;
      ex.traceroute_hops += timeout ? 0 : k === 2 ? 2 : 4;
    }
    for (let k = 0; k < 120; k++) {
      const at = base + k * 30_000 + ai * 100;
      const status: AgentStatus = assertEvent({
        v: 1,
        kind: 'status',
        site: a.site,
        agent: a.agent,
        at,
        startedAt: base - 60_000,
        version: '0.1.0',
        location: { name: `Agent ${a.agent} "roof"`, lat: 52.5 + ai / 100, lon: ai === 2 ? null : 13.4 },
        radio: {
          state: 'connected',
          transport: 'tcp',
          address: '127.0.0.1:4403',
          since: base - 50_000,
          lastFrameAt: at - 200,
          reconnects: 0,
          myNodeNum: a.node,
        },
        buffer: { inFlight: 0, streamMessages: k * 10, streamBytes: k * 4000, hubConnected: true },
        counters: { framesRead: k * 7, receptions: k * 6 },
      } as AgentStatus);
      events.push({ subject: subjects.status(a.site, a.agent), event: status, at });
      ex.agent_status++;
    }
  }

  // Node-DB snapshots every 10 minutes per agent, consistent with what was heard so far.
  for (const [ai, a] of AGENTS.entries()) {
    for (let k = 0; k < 6; k++) {
      const takenAt = base + 590_000 + k * 600_000 + ai * 10;
      // lastHeard is an hour old: this evidence never outranks the NODEINFO packets of the hour.
      const entries = nodes.map((n, i) => ({
        num: n,
        snr: i % 2 ? 5.5 : 0,
        lastHeard: Math.floor((base - 3_600_000) / 1000),
        hopsAway: i % 4,
        user: { id: `!${n.toString(16)}`, ...names.get(n)!, hwModel: 9, ...(i % 3 === 0 ? {} : { role: 2 }) },
        position: { latitudeI: 520_000_000 + i, longitudeI: 134_000_000 + i, altitude: i },
        deviceMetrics: {
          batteryLevel: i === 0 ? 0 : 80,
          voltage: 4.1,
          channelUtilization: 12.5,
          airUtilTx: 0,
          uptimeSeconds: 3600 + k,
        },
      }));
      const snap: NodeDbSnapshot = assertEvent({
        v: 1,
        kind: 'nodedb',
        site: a.site,
        agent: a.agent,
        takenAt,
        reason: 'interval',
        myNodeNum: a.node,
        nodes: entries,
      } as NodeDbSnapshot);
      events.push({ subject: subjects.nodedb(a.site, a.agent), event: snap, at: takenAt });
    }
  }
  ex.nodedb = AGENTS.length * nodes.length;
  events.sort((x, y) => x.at - y.at);
  return { events, base, expected: ex };
}
