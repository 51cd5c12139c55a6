// Builders of valid contract events for tests and the benchmark (excluded from the build by the test-* name).
import { type AgentStatus, assertEvent, PORTNUM, type Port, type Reception } from '@mmm/schemas';

export const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

let nextId = 1;

export interface RxOpts {
  from: number;
  at: number;
  site?: string;
  agent?: string;
  to?: number;
  /** Where the reception came from (default radio; mqtt: an MQTT gateway's uplink). */
  source?: 'radio' | 'mqtt';
}

const PORTNUMS: Partial<Record<Port, number>> = {
  text: PORTNUM.TEXT_MESSAGE_APP,
  position: PORTNUM.POSITION_APP,
  telemetry: PORTNUM.TELEMETRY_APP,
  nodeinfo: PORTNUM.NODEINFO_APP,
};

export function rx(port: Port, o: RxOpts, payload: unknown): Reception {
  return assertEvent({
    v: 1,
    kind: 'reception',
    site: o.site ?? 's1',
    agent: o.agent ?? 'a1',
    receivedAt: o.at,
    source: o.source ?? 'radio',
    port,
    packet: {
      from: o.from,
      to: o.to ?? 0xffffffff,
      id: nextId++,
      channel: 0,
      rxTime: Math.floor(o.at / 1000),
      rxSnr: 5,
      rxRssi: -90,
      hopStart: 3,
      hopLimit: 3,
      relayNode: 0,
      nextHop: 0,
      wantAck: false,
      viaMqtt: false,
      priority: 0,
      pkiEncrypted: false,
    },
    encryption: 'none',
    data: { portnum: PORTNUMS[port] ?? 0, wantResponse: false, dest: 0, source: 0, requestId: 0, replyId: 0, emoji: 0 },
    payload,
  } as unknown as Reception);
}

export const batteryRx = (o: RxOpts, batteryLevel: number) =>
  rx('telemetry', o, { time: Math.floor(o.at / 1000), deviceMetrics: { batteryLevel, voltage: 3.9 } });
export const textRx = (o: RxOpts, text: string) => rx('text', o, { text });
export const positionRx = (o: RxOpts, latitude: number, longitude: number) =>
  rx('position', o, {
    latitudeI: Math.round(latitude * 1e7),
    longitudeI: Math.round(longitude * 1e7),
    latitude,
    longitude,
  });
export const nodeInfoRx = (o: RxOpts, role: number, longName = `node ${o.from.toString(16)}`) =>
  rx('nodeinfo', o, { id: `!${o.from.toString(16).padStart(8, '0')}`, longName, shortName: 'N', hwModel: 9, role });

export function status(o: {
  at: number;
  site?: string;
  agent?: string;
  radio?: AgentStatus['radio']['state'];
  radioSince?: number;
  hubConnected?: boolean;
  hubBacklog?: number;
  held?: number;
}): AgentStatus {
  return assertEvent({
    v: 1,
    kind: 'status',
    site: o.site ?? 's1',
    agent: o.agent ?? 'a1',
    at: o.at,
    startedAt: T0 - 60_000,
    version: 'test',
    location: { name: 'here', lat: null, lon: null },
    radio: {
      state: o.radio ?? 'connected',
      transport: 'tcp',
      address: '127.0.0.1:4403',
      since: o.radioSince ?? T0 - 60_000,
      lastFrameAt: o.at,
      reconnects: 0,
    },
    buffer: {
      inFlight: 0,
      streamMessages: o.held ?? 0,
      streamBytes: 0,
      ...(o.hubConnected !== undefined ? { hubConnected: o.hubConnected } : {}),
      ...(o.hubBacklog !== undefined ? { hubBacklog: o.hubBacklog } : {}),
    },
    counters: {},
  });
}
