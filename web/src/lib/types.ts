// The app's own view of the API's data. api.ts maps the server's JSON into these once, so components never deal
// with snake_case/camelCase variants or missing fields.

export interface NodeRow {
  readonly id: string;
  readonly shortName: string | null;
  readonly longName: string | null;
  readonly hwModel: string | null;
  readonly role: string;
  readonly firmware: string | null;
  readonly battery: number | null;
  readonly voltage: number | null;
  readonly channelUtil: number | null;
  readonly airUtilTx: number | null;
  readonly uptime: number | null;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly alt: number | null;
  readonly rssi: number | null;
  readonly snr: number | null;
  readonly hops: number | null;
  /** When any agent last heard a packet from it (epoch ms); not when it was last *reported* by a node DB. */
  readonly lastHeard: number | null;
  readonly packets: number | null;
  /** Agents (ids) that hear it. */
  readonly agents: readonly string[];
  readonly routes: readonly NodeRoute[];
  readonly macaddr: string | null;
  /** Heard on the radio in the last hour, as the API decided; null when it did not say. */
  readonly active: boolean | null;
}

export interface NodeRoute {
  readonly agent: string;
  readonly path: readonly string[];
  readonly hops: number | null;
  readonly at: number | null;
}

export interface AgentRow {
  readonly id: string;
  readonly site: string | null;
  readonly name: string | null;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly lastSeen: number | null;
  readonly packets: number | null;
  readonly radioState: string | null;
  readonly bufferDepth: number | null;
  readonly hubConnected: boolean | null;
  readonly nodeId: string | null;
  readonly active: boolean;
  /** True for an MQTT gateway (heard through `mmm mqtt`), not an agent beside a radio. */
  readonly mqtt: boolean;
}

export interface PacketRow {
  readonly key: string;
  readonly packetId: number | null;
  readonly at: number | null;
  readonly from: string;
  readonly to: string;
  readonly fromName: string | null;
  readonly toName: string | null;
  readonly type: string;
  readonly channel: number | null;
  readonly agent: string | null;
  readonly agentName: string | null;
  readonly rssi: number | null;
  readonly snr: number | null;
  readonly hops: number | null;
  /** Last byte of the node that relayed it to the agent (firmware 2.5+), 0/null when unknown. */
  readonly relay: number | null;
  readonly payload: unknown;
  readonly receptions: number | null;
}

export interface Reception {
  readonly agent: string;
  readonly agentName: string | null;
  readonly at: number | null;
  readonly rssi: number | null;
  readonly snr: number | null;
  readonly hopStart: number | null;
  readonly hopLimit: number | null;
  readonly relay: string | null;
  /** Heard by an MQTT gateway (source mqtt) or carried over MQTT on its way (the packet's via_mqtt). */
  readonly viaMqtt?: boolean;
}

export interface Stats {
  readonly agentsTotal: number | null;
  readonly agentsActive: number | null;
  readonly packetsTotal: number | null;
  readonly packetsLastHour: number | null;
  readonly nodesTotal: number | null;
  readonly nodesActive: number | null;
  readonly packetTypes: readonly { type: string; count: number }[];
  readonly perHour: readonly { at: number; count: number }[];
}

export interface LinkRow {
  readonly from: string;
  readonly to: string;
  readonly snr: number | null;
  /** SNR in the other direction (to → from), when that direction was measured too. */
  readonly snrBack: number | null;
  readonly quality: number | null;
  readonly lastSeen: number | null;
  readonly evidence: readonly string[];
}

export interface TraceRow {
  readonly agent: string | null;
  readonly from: string;
  readonly to: string;
  readonly at: number | null;
  readonly success: boolean;
  readonly towards: readonly string[];
  readonly towardsSnr: readonly (number | null)[];
  readonly back: readonly string[];
  readonly backSnr: readonly (number | null)[];
}

export interface NameChange {
  readonly shortName: string | null;
  readonly longName: string | null;
  readonly at: number | null;
  readonly agent: string | null;
}

export interface TelemetryPoint {
  readonly at: number;
  readonly values: Readonly<Record<string, number>>;
}

export interface PositionPoint {
  readonly at: number;
  readonly lat: number;
  readonly lon: number;
}

/** A radio neighbour with SNR both ways: `snrIn` = this node heard the neighbour, `snrOut` = the neighbour heard it. */
export interface NeighborRow {
  readonly id: string;
  readonly name: string | null;
  readonly snrIn: number | null;
  readonly snrOut: number | null;
  readonly quality: number | null;
  readonly lastContact: number | null;
  readonly evidence: readonly string[];
}

export interface NodeDetail {
  readonly node: NodeRow;
  readonly region: string | null;
  readonly modemPreset: string | null;
  readonly neighbors: readonly NeighborRow[];
  readonly firstSeen: number | null;
}

export interface AgentHealth {
  readonly bufferDepth: number | null;
  readonly inFlight: number | null;
  readonly hubConnected: boolean | null;
  /** Site-stream messages the hub has still to take (null: not asked, or the hub is not sourcing now). */
  readonly hubBacklog: number | null;
  readonly lastSync: number | null;
  readonly radioState: string | null;
  readonly transport: string | null;
  readonly reconnects: number | null;
}

export interface MapConfig {
  readonly centerLat: number;
  readonly centerLon: number;
  readonly zoom: number;
  readonly forceCenter: boolean;
  /** Empty = no tile layer: the bundled offline basemap only. */
  readonly tileUrl: string;
  readonly tileAttribution: string;
  readonly siteName: string;
}

export interface SiteInfo {
  readonly siteName: string;
}

/** One alert of /api/alerts (times in Unix ms). */
export interface AlertRow {
  readonly id: string;
  readonly rule: string;
  readonly state: 'firing' | 'resolved';
  readonly node_id: string | null;
  readonly site: string | null;
  readonly agent_id: string | null;
  readonly since: number;
  readonly resolved_at: number | null;
  readonly summary: string;
  readonly acknowledged: boolean;
  readonly silenced_until: number | null;
  /** When it last changed: resolved_at, else since. */
  readonly at: number;
}
