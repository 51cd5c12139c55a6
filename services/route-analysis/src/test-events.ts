// Builders of valid contract events for tests (excluded from the build by the test-* name).
import {
  assertEvent,
  type NodeDbSnapshot,
  type PacketHeader,
  type PayloadOf,
  PORTNUM,
  type Port,
  type Reception,
  type TraceOutcome,
} from '@mmm/schemas';

export const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

const PORTNUMS: Partial<Record<Port, number>> = {
  text: PORTNUM.TEXT_MESSAGE_APP,
  position: PORTNUM.POSITION_APP,
  traceroute: PORTNUM.TRACEROUTE_APP,
  neighborinfo: PORTNUM.NEIGHBORINFO_APP,
};

export interface RxOpts {
  site?: string;
  agent?: string;
  from: number;
  to?: number;
  id: number;
  receivedAt?: number;
  hopStart?: number;
  hopLimit?: number;
  rxSnr?: number;
  rxRssi?: number;
  relayNode?: number;
  viaMqtt?: boolean;
  source?: Reception['source'];
  gatewayId?: string;
  requestId?: number;
}

function header(o: RxOpts): PacketHeader {
  return {
    from: o.from,
    to: o.to ?? 0xffffffff,
    id: o.id,
    channel: 0,
    rxTime: Math.floor((o.receivedAt ?? T0) / 1000),
    rxSnr: o.rxSnr ?? 0,
    rxRssi: o.rxRssi ?? -90,
    hopStart: o.hopStart ?? 3,
    hopLimit: o.hopLimit ?? 3,
    relayNode: o.relayNode ?? 0,
    nextHop: 0,
    wantAck: false,
    viaMqtt: o.viaMqtt ?? false,
    priority: 0,
    pkiEncrypted: false,
  };
}

function rx(port: Port, o: RxOpts, payload: unknown): Reception {
  const ev = {
    v: 1,
    kind: 'reception',
    site: o.site ?? 's1',
    agent: o.agent ?? 'a1',
    receivedAt: o.receivedAt ?? T0,
    source: o.source ?? 'radio',
    port,
    packet: header(o),
    encryption: 'none',
    data: {
      portnum: PORTNUMS[port] ?? 0,
      wantResponse: false,
      dest: 0,
      source: 0,
      requestId: o.requestId ?? 0,
      replyId: 0,
      emoji: 0,
    },
    payload,
    ...(o.gatewayId ? { gatewayId: o.gatewayId } : {}),
  } as unknown as Reception;
  return assertEvent(ev);
}

export function textRx(o: RxOpts, text = 'hello'): Reception {
  return rx('text', o, { text });
}

export function neighborInfoRx(o: RxOpts, reporter: number, neighbors: { nodeId: number; snr: number }[]): Reception {
  const payload: PayloadOf<'neighborinfo'> = {
    nodeId: reporter,
    lastSentById: reporter,
    nodeBroadcastIntervalSecs: 900,
    neighbors,
  };
  return rx('neighborinfo', o, payload);
}

export function routeDiscoveryRx(o: RxOpts, rd: PayloadOf<'traceroute'>): Reception {
  return rx('traceroute', o, rd);
}

export interface TraceOpts {
  site?: string;
  agent?: string;
  requestId: number;
  from: number;
  to: number;
  at?: number;
  outcome?: TraceOutcome['outcome'];
  towards?: { route: number[]; snr: (number | null)[] };
  back?: { route: number[]; snr: (number | null)[] } | null;
}

export function trace(o: TraceOpts): TraceOutcome {
  const at = o.at ?? T0;
  return assertEvent({
    v: 1,
    kind: 'trace',
    site: o.site ?? 's1',
    agent: o.agent ?? 'a1',
    requestId: o.requestId,
    from: o.from,
    to: o.to,
    startedAt: at - 2000,
    finishedAt: at,
    outcome: o.outcome ?? 'success',
    trigger: 'sweep',
    ...(o.towards ? { towards: o.towards } : {}),
    ...(o.back !== undefined ? { back: o.back } : {}),
  });
}

export function nodeDb(o: {
  site?: string;
  agent?: string;
  myNodeNum: number;
  takenAt?: number;
  nodes?: { num: number; hopsAway?: number; snr?: number; lastHeard?: number; viaMqtt?: boolean }[];
}): NodeDbSnapshot {
  return assertEvent({
    v: 1,
    kind: 'nodedb',
    site: o.site ?? 's1',
    agent: o.agent ?? 'a1',
    takenAt: o.takenAt ?? T0,
    reason: 'connect',
    myNodeNum: o.myNodeNum,
    nodes: [{ num: o.myNodeNum }, ...(o.nodes ?? [])],
  });
}
