import { type Static, Type } from '@sinclair/typebox';
import { Base64, NodeNum, Open, Uint32 } from './common.js';

// Payloads are the protobuf JSON form of the decoded message (wire names, enums as integers, zero values emitted),
// so a consumer can read the Meshtastic protobuf documentation to understand every field.

const Num = Type.Number();
const Int = Type.Integer();

export const TextPayload = Open({ text: Type.String() }, 'TEXT_MESSAGE_APP: the UTF-8 text');

export const PositionPayload = Open(
  {
    latitudeI: Type.Optional(Int),
    longitudeI: Type.Optional(Int),
    altitude: Type.Optional(Int),
    time: Type.Optional(Uint32),
    locationSource: Type.Optional(Int),
    altitudeSource: Type.Optional(Int),
    timestamp: Type.Optional(Uint32),
    precisionBits: Type.Optional(Uint32),
    groundSpeed: Type.Optional(Uint32),
    groundTrack: Type.Optional(Uint32),
    satsInView: Type.Optional(Uint32),
    PDOP: Type.Optional(Uint32),
    HDOP: Type.Optional(Uint32),
    /** Degrees, derived from latitudeI / 1e7 (absent when latitudeI is absent). */
    latitude: Type.Optional(Num),
    longitude: Type.Optional(Num),
  },
  'POSITION_APP: meshtastic.Position',
);

export const UserPayload = Open(
  {
    id: Type.Optional(Type.String()),
    longName: Type.Optional(Type.String()),
    shortName: Type.Optional(Type.String()),
    macaddr: Type.Optional(Base64),
    hwModel: Type.Optional(Int),
    isLicensed: Type.Optional(Type.Boolean()),
    role: Type.Optional(Int),
    publicKey: Type.Optional(Base64),
    isUnmessagable: Type.Optional(Type.Boolean()),
  },
  'NODEINFO_APP: meshtastic.User',
);

const Metrics = Type.Record(Type.String(), Type.Union([Num, Type.Boolean(), Type.String(), Type.Null()]));
export const TelemetryPayload = Open(
  {
    time: Type.Optional(Uint32),
    deviceMetrics: Type.Optional(Metrics),
    environmentMetrics: Type.Optional(Metrics),
    airQualityMetrics: Type.Optional(Metrics),
    powerMetrics: Type.Optional(Metrics),
    localStats: Type.Optional(Metrics),
    healthMetrics: Type.Optional(Metrics),
    hostMetrics: Type.Optional(Metrics),
  },
  'TELEMETRY_APP: meshtastic.Telemetry; exactly one metrics variant is present, every field the node sent is kept, zeros included',
);

export const RoutingPayload = Open(
  {
    errorReason: Type.Optional(Int),
    routeRequest: Type.Optional(Type.Unknown()),
    routeReply: Type.Optional(Type.Unknown()),
  },
  'ROUTING_APP: meshtastic.Routing',
);

export const RouteDiscoveryPayload = Open(
  {
    route: Type.Array(NodeNum),
    snrTowards: Type.Array(Int, { description: 'SNR in dB x 4 per hop; -128 = unknown' }),
    routeBack: Type.Array(NodeNum),
    snrBack: Type.Array(Int, { description: 'SNR in dB x 4 per hop; -128 = unknown' }),
  },
  'TRACEROUTE_APP: meshtastic.RouteDiscovery',
);

export const NeighborInfoPayload = Open(
  {
    nodeId: NodeNum,
    lastSentById: Type.Optional(NodeNum),
    nodeBroadcastIntervalSecs: Type.Optional(Uint32),
    neighbors: Type.Array(
      Open({
        nodeId: NodeNum,
        snr: Num,
        lastRxTime: Type.Optional(Uint32),
        nodeBroadcastIntervalSecs: Type.Optional(Uint32),
      }),
    ),
  },
  'NEIGHBORINFO_APP: meshtastic.NeighborInfo',
);

export const WaypointPayload = Open(
  {
    id: Type.Optional(Uint32),
    latitudeI: Type.Optional(Int),
    longitudeI: Type.Optional(Int),
    expire: Type.Optional(Uint32),
    lockedTo: Type.Optional(Uint32),
    name: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    icon: Type.Optional(Uint32),
  },
  'WAYPOINT_APP: meshtastic.Waypoint',
);

export const MapReportPayload = Open(
  {
    longName: Type.Optional(Type.String()),
    shortName: Type.Optional(Type.String()),
    role: Type.Optional(Int),
    hwModel: Type.Optional(Int),
    firmwareVersion: Type.Optional(Type.String()),
    region: Type.Optional(Int),
    modemPreset: Type.Optional(Int),
    hasDefaultChannel: Type.Optional(Type.Boolean()),
    latitudeI: Type.Optional(Int),
    longitudeI: Type.Optional(Int),
    altitude: Type.Optional(Int),
    positionPrecision: Type.Optional(Uint32),
    numOnlineLocalNodes: Type.Optional(Uint32),
  },
  'MAP_REPORT_APP: meshtastic.MapReport',
);

export const RangeTestPayload = Open({ text: Type.String() }, 'RANGE_TEST_APP: the text "seq N"');
export const StoreForwardPayload = Open({ rr: Type.Optional(Int) }, 'STORE_FORWARD_APP: meshtastic.StoreAndForward');
export const PaxcounterPayload = Open(
  { wifi: Type.Optional(Uint32), ble: Type.Optional(Uint32), uptime: Type.Optional(Uint32) },
  'PAXCOUNTER_APP: meshtastic.Paxcount',
);
export const EncryptedPayload = Open(
  { channelHash: Uint32, reason: Type.String({ description: 'why it was not decrypted, e.g. "no matching key"' }) },
  'A packet the agent could not decrypt; the ciphertext is in raw',
);
export const OtherPayload = Open(
  {
    portnum: Int,
    bytes: Base64,
    error: Type.Optional(Type.String({ description: 'why a known port payload did not parse' })),
  },
  'Any other port, or a known port whose payload failed to parse',
);

export const PayloadByPort = {
  text: TextPayload,
  position: PositionPayload,
  nodeinfo: UserPayload,
  telemetry: TelemetryPayload,
  routing: RoutingPayload,
  traceroute: RouteDiscoveryPayload,
  neighborinfo: NeighborInfoPayload,
  waypoint: WaypointPayload,
  mapreport: MapReportPayload,
  rangetest: RangeTestPayload,
  storeforward: StoreForwardPayload,
  paxcounter: PaxcounterPayload,
  encrypted: EncryptedPayload,
  other: OtherPayload,
} as const;

export type PayloadOf<P extends keyof typeof PayloadByPort> = Static<(typeof PayloadByPort)[P]>;
