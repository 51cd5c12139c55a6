import { Config, create, Mesh, Mqtt, PaxCount, Portnums, StoreForward, Telemetry, toBinary } from '@mmm/meshtastic';
import { HOSTILE_TEXT, HOSTILE_WAYPOINT, TEXTS, WAYPOINT_NAMES } from './names.js';
import type { Prng } from './prng.js';
import type { MutableNode, World } from './world.js';

const P = Portnums.PortNum;
const BROADCAST = 0xffffffff;
export const FIRMWARE_VERSION = '2.7.15.5a1c7f0';

/** What the live stream carries, by share of packets. `private` = traffic of the channel whose key clients lack. */
export const PORT_WEIGHTS = {
  position: 20,
  nodeinfo: 8,
  telemetry: 22,
  text: 10,
  routing: 5,
  neighborinfo: 4,
  waypoint: 3,
  mapreport: 3,
  rangetest: 3,
  storeforward: 3,
  paxcounter: 3,
  private: 8,
} as const;
export type TrafficKind = keyof typeof PORT_WEIGHTS;
export const TRAFFIC_KINDS = Object.keys(PORT_WEIGHTS) as TrafficKind[];

export const TELEMETRY_WEIGHTS = {
  deviceMetrics: 40,
  environmentMetrics: 20,
  powerMetrics: 10,
  airQualityMetrics: 10,
  localStats: 10,
  healthMetrics: 10,
} as const;
export type TelemetryKind = keyof typeof TELEMETRY_WEIGHTS;

/** An application payload on its way into the mesh, before radio details (id, hops, SNR, encryption) are added. */
export interface Outgoing {
  from: number;
  to: number;
  portnum: number;
  payload: Uint8Array;
  channel: 'primary' | 'private';
  wantResponse?: boolean;
  requestId?: number;
  /** Plaintext on the wire even when the mesh would encrypt (replies to the gateway's own requests). */
  forceDecoded?: boolean;
}

const utf8 = new TextEncoder();

/** Builds one application payload of a kind, from a node chosen to fit it. */
export class TrafficGenerator {
  private rangeSeq = new Map<number, number>();

  private readonly texts: readonly string[];
  private readonly waypointNames: readonly string[];
  /** Uptimes grow from each node's seeded value at this moment. */
  private readonly startedAt: number;

  constructor(
    private readonly world: World,
    private readonly rng: Prng,
    private readonly clock: () => number,
    hostile = false,
  ) {
    this.startedAt = clock();
    this.texts = hostile ? [...TEXTS, HOSTILE_TEXT] : TEXTS;
    this.waypointNames = hostile ? [...WAYPOINT_NAMES, HOSTILE_WAYPOINT] : WAYPOINT_NAMES;
  }

  private get now(): number {
    return Math.floor(this.clock() / 1000);
  }

  private sender(): MutableNode {
    // The gateway's own broadcasts reach its client too, but rarely: it is one node among many.
    return this.rng.chance(0.03) ? this.world.gateway : this.rng.pick(this.world.nodes.slice(1));
  }

  make(kind: TrafficKind): Outgoing {
    switch (kind) {
      case 'position':
        return this.position(this.sender());
      case 'nodeinfo':
        return this.nodeinfo(this.sender());
      case 'telemetry':
        return this.telemetry(this.rng.weighted(TELEMETRY_WEIGHTS));
      case 'text':
        return this.text();
      case 'routing':
        return this.routing();
      case 'neighborinfo':
        return this.neighborinfo();
      case 'waypoint':
        return this.waypoint();
      case 'mapreport':
        return this.mapreport();
      case 'rangetest':
        return this.rangetest();
      case 'storeforward':
        return this.storeforward();
      case 'paxcounter':
        return this.paxcounter();
      case 'private':
        return { ...this.text(), channel: 'private' };
    }
  }

  position(node: MutableNode): Outgoing {
    if (node.mobile) {
      // A tracker wanders ~100 m between reports; links stay as they are (the topology is static).
      node.lat = Math.round((node.lat + this.rng.range(-0.001, 0.001)) * 1e7) / 1e7;
      node.lon = Math.round((node.lon + this.rng.range(-0.0015, 0.0015)) * 1e7) / 1e7;
    }
    const precise = node.num % 5 !== 0;
    const value = create(Mesh.PositionSchema, {
      latitudeI: Math.round(node.lat * 1e7),
      longitudeI: Math.round(node.lon * 1e7),
      altitude: node.altitude,
      time: this.now,
      locationSource: Mesh.Position_LocSource.LOC_INTERNAL,
      precisionBits: precise ? 32 : 13,
      satsInView: this.rng.int(4, 14),
      PDOP: this.rng.int(80, 400),
      ...(node.mobile ? { groundSpeed: this.rng.int(0, 12), groundTrack: this.rng.int(0, 359) } : {}),
    });
    return this.bcast(node, P.POSITION_APP, toBinary(Mesh.PositionSchema, value));
  }

  nodeinfo(node: MutableNode): Outgoing {
    return this.bcast(node, P.NODEINFO_APP, toBinary(Mesh.UserSchema, userOf(node)));
  }

  /** `from`: a reading of that node now (the simulator's controls), else of a node picked at random. */
  telemetry(kind: TelemetryKind, from?: MutableNode): Outgoing {
    // Local stats describe the gateway's own radio; the rest come from anywhere.
    const node = from ?? (kind === 'localStats' ? this.world.gateway : this.sender());
    const r = this.rng;
    const zero = r.chance(0.1); // exact zeros are real readings, not missing ones
    let variant: Telemetry.Telemetry['variant'];
    switch (kind) {
      case 'deviceMetrics':
        variant = {
          case: kind,
          value: create(Telemetry.DeviceMetricsSchema, {
            batteryLevel: node.batteryLevel,
            voltage: node.voltage,
            channelUtilization: zero ? 0 : round(r.range(1, 35), 2),
            airUtilTx: zero ? 0 : round(r.range(0.1, 6), 3),
            uptimeSeconds: node.uptimeAtStart + this.now - Math.floor(this.startedAt / 1000),
          }),
        };
        break;
      case 'environmentMetrics':
        variant = {
          case: kind,
          value: create(Telemetry.EnvironmentMetricsSchema, {
            temperature: zero ? 0 : round(r.range(-8, 32), 2),
            relativeHumidity: round(r.range(20, 95), 1),
            barometricPressure: round(r.range(985, 1035), 1),
            gasResistance: round(r.range(5, 300), 1),
            lux: zero ? 0 : round(r.range(0, 40000), 0),
          }),
        };
        break;
      case 'powerMetrics':
        variant = {
          case: kind,
          value: create(Telemetry.PowerMetricsSchema, {
            ch1Voltage: round(r.range(11.5, 14.2), 2),
            ch1Current: zero ? 0 : round(r.range(10, 800), 1),
            ch2Voltage: round(r.range(4.9, 5.2), 2),
            ch2Current: round(r.range(50, 500), 1),
          }),
        };
        break;
      case 'airQualityMetrics':
        variant = {
          case: kind,
          value: create(Telemetry.AirQualityMetricsSchema, {
            pm10Standard: r.int(0, 40),
            pm25Standard: r.int(0, 60),
            pm100Standard: r.int(0, 90),
            co2: r.int(400, 1600),
          }),
        };
        break;
      case 'localStats':
        variant = {
          case: kind,
          value: create(Telemetry.LocalStatsSchema, {
            uptimeSeconds: node.uptimeAtStart + this.now - Math.floor(this.startedAt / 1000),
            channelUtilization: round(r.range(2, 30), 2),
            airUtilTx: round(r.range(0.1, 5), 3),
            numPacketsTx: r.int(100, 5000),
            numPacketsRx: r.int(1000, 90000),
            numPacketsRxBad: r.int(0, 300),
            numOnlineNodes: Math.max(1, this.world.nodes.length - r.int(0, 3)),
            numTotalNodes: this.world.nodes.length,
            numRxDupe: r.int(0, 3000),
            numTxRelay: r.int(0, 2000),
            numTxRelayCanceled: r.int(0, 500),
            noiseFloor: r.int(-120, -95),
          }),
        };
        break;
      case 'healthMetrics':
        variant = {
          case: kind,
          value: create(Telemetry.HealthMetricsSchema, {
            heartBpm: r.int(55, 140),
            spO2: r.int(90, 100),
            temperature: round(r.range(36, 38.5), 1),
          }),
        };
        break;
    }
    const t = create(Telemetry.TelemetrySchema, { time: this.now, variant });
    return this.bcast(node, P.TELEMETRY_APP, toBinary(Telemetry.TelemetrySchema, t));
  }

  text(): Outgoing {
    const node = this.sender();
    const toGateway = node !== this.world.gateway && this.rng.chance(0.2);
    return {
      from: node.num,
      to: toGateway ? this.world.gateway.num : BROADCAST,
      portnum: P.TEXT_MESSAGE_APP,
      payload: utf8.encode(this.rng.pick(this.texts)),
      channel: 'primary',
    };
  }

  routing(): Outgoing {
    const node = this.rng.pick(this.world.nodes.slice(1));
    const error = this.rng.chance(0.8)
      ? Mesh.Routing_Error.NONE
      : this.rng.pick([Mesh.Routing_Error.NO_ROUTE, Mesh.Routing_Error.MAX_RETRANSMIT, Mesh.Routing_Error.NO_RESPONSE]);
    const value = create(Mesh.RoutingSchema, { variant: { case: 'errorReason', value: error } });
    return {
      from: node.num,
      to: this.world.gateway.num,
      portnum: P.ROUTING_APP,
      payload: toBinary(Mesh.RoutingSchema, value),
      channel: 'primary',
      requestId: this.rng.u32() || 1,
    };
  }

  /** What `from` hears, straight from the topology (SNR as a plain float, unlike RouteDiscovery). */
  neighborinfo(): Outgoing {
    const node = this.rng.pick(this.world.nodes.slice(1));
    const heard = this.world
      .heardBy(node.num)
      .sort((a, b) => b.snr - a.snr)
      .slice(0, 10); // the firmware reports at most 10
    const value = create(Mesh.NeighborInfoSchema, {
      nodeId: node.num,
      lastSentById: node.num,
      nodeBroadcastIntervalSecs: 14_400,
      neighbors: heard.map((l) => ({
        nodeId: l.from,
        snr: l.snr,
        lastRxTime: this.now - this.rng.int(10, 3600),
        nodeBroadcastIntervalSecs: 14_400,
      })),
    });
    return this.bcast(node, P.NEIGHBORINFO_APP, toBinary(Mesh.NeighborInfoSchema, value));
  }

  waypoint(): Outgoing {
    const node = this.rng.pick(this.world.nodes.slice(1));
    const value = create(Mesh.WaypointSchema, {
      id: this.rng.u32() || 1,
      latitudeI: Math.round((node.lat + this.rng.range(-0.01, 0.01)) * 1e7),
      longitudeI: Math.round((node.lon + this.rng.range(-0.01, 0.01)) * 1e7),
      expire: this.now + 86_400,
      name: this.rng.pick(this.waypointNames),
      description: 'set from the simulator',
      icon: 0x1f4cd,
    });
    return this.bcast(node, P.WAYPOINT_APP, toBinary(Mesh.WaypointSchema, value));
  }

  mapreport(): Outgoing {
    const node = this.rng.pick(this.world.nodes.slice(1));
    const value = create(Mqtt.MapReportSchema, {
      longName: node.longName,
      shortName: node.shortName,
      role: node.role,
      hwModel: node.hwModel,
      firmwareVersion: FIRMWARE_VERSION,
      region: Config.Config_LoRaConfig_RegionCode.EU_868,
      modemPreset: Config.Config_LoRaConfig_ModemPreset.LONG_FAST,
      hasDefaultChannel: true,
      latitudeI: Math.round(node.lat * 1e7),
      longitudeI: Math.round(node.lon * 1e7),
      altitude: node.altitude,
      positionPrecision: 14,
      numOnlineLocalNodes: this.world.heardBy(node.num).length,
    });
    return this.bcast(node, P.MAP_REPORT_APP, toBinary(Mqtt.MapReportSchema, value));
  }

  rangetest(): Outgoing {
    const node = this.rng.pick(this.world.nodes.slice(1));
    const seq = (this.rangeSeq.get(node.num) ?? 0) + 1;
    this.rangeSeq.set(node.num, seq);
    return this.bcast(node, P.RANGE_TEST_APP, utf8.encode(`seq ${seq}`));
  }

  storeforward(): Outgoing {
    const routers = this.world.nodes.filter((n) => n.role === 2 || n.role === 11);
    const node = routers.length > 0 ? this.rng.pick(routers) : this.rng.pick(this.world.nodes.slice(1));
    const value = this.rng.chance(0.7)
      ? create(StoreForward.StoreAndForwardSchema, {
          rr: StoreForward.StoreAndForward_RequestResponse.ROUTER_HEARTBEAT,
          variant: { case: 'heartbeat', value: { period: 900, secondary: 0 } },
        })
      : create(StoreForward.StoreAndForwardSchema, {
          rr: StoreForward.StoreAndForward_RequestResponse.ROUTER_STATS,
          variant: {
            case: 'stats',
            value: {
              messagesTotal: this.rng.int(0, 3000),
              messagesSaved: this.rng.int(0, 800),
              messagesMax: 3000,
              upTime: this.rng.int(60, 1e6),
              requests: this.rng.int(0, 50),
              heartbeat: true,
              returnMax: 25,
              returnWindow: 240,
            },
          },
        });
    return this.bcast(node, P.STORE_FORWARD_APP, toBinary(StoreForward.StoreAndForwardSchema, value));
  }

  paxcounter(): Outgoing {
    const node = this.rng.pick(this.world.nodes.slice(1));
    const value = create(PaxCount.PaxcountSchema, {
      wifi: this.rng.int(0, 120),
      ble: this.rng.int(0, 250),
      uptime: this.rng.int(60, 1e6),
    });
    return this.bcast(node, P.PAXCOUNTER_APP, toBinary(PaxCount.PaxcountSchema, value));
  }

  private bcast(node: MutableNode, portnum: number, payload: Uint8Array): Outgoing {
    return { from: node.num, to: BROADCAST, portnum, payload, channel: 'primary' };
  }
}

export function userOf(node: MutableNode): Mesh.User {
  return create(Mesh.UserSchema, {
    id: node.id,
    longName: node.longName,
    shortName: node.shortName,
    macaddr: node.macaddr,
    hwModel: node.hwModel,
    role: node.role,
    publicKey: node.publicKey,
  });
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
