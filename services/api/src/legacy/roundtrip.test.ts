import { readStreamRange } from '@mmm/common';
import {
  type MeshEvent,
  type NodeDbSnapshot,
  PORTS,
  type Port,
  type Reception,
  streams,
  type TraceOutcome,
} from '@mmm/schemas';
import {
  legacyDataBody,
  legacyNodeDbBody,
  legacyRegisterBody,
  legacyRoutesBody,
  legacyTypeOfPort,
  portOfLegacyType,
} from '@mmm/schemas/legacy';
import { waitFor } from '@mmm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, KEYS, nodedb, rx, type Stack, startStack, trace } from '../testing.js';

// The agent's [server_*] relay posts exactly these bodies (`@mmm/schemas/legacy`); here they go over real HTTP to a
// started API, and what the API republishes is compared with the events they were made from.

const AGENT = 'gw-legacy';
const BOB = 0x0000beef;
const CAROL = 0x00c0ffee;
const now = Date.now();
const at = now - 5000;
const mac = btoa(String.fromCharCode(0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff));

/** A realistic payload per port, as the agent's decoder produces them. */
const PAYLOADS: Record<Port, Record<string, unknown>> = {
  text: { text: 'hello mesh' },
  position: { latitudeI: 525200000, longitudeI: 134050000, latitude: 52.52, longitude: 13.405, altitude: 40, time: 1 },
  nodeinfo: { id: '!0000beef', longName: 'Bob', shortName: 'BOB', macaddr: mac, hwModel: 43, role: 2 },
  telemetry: {
    deviceMetrics: { batteryLevel: 0, voltage: 3.71, channelUtilization: 0, airUtilTx: 1.5, uptimeSeconds: 86400 },
  },
  routing: { errorReason: 5 },
  traceroute: { route: [CAROL], snrTowards: [24, -128], routeBack: [CAROL], snrBack: [16, 12] },
  neighborinfo: { nodeId: BOB, neighbors: [{ nodeId: CAROL, snr: 7.5 }] },
  waypoint: { id: 7, latitudeI: 525000000, longitudeI: 134000000, name: 'camp' },
  mapreport: { longName: 'Bob', shortName: 'BOB', hwModel: 43 },
  rangetest: { text: 'seq 12' },
  storeforward: { rr: 2 },
  paxcounter: { wifi: 3, ble: 9, uptime: 60 },
  encrypted: { channelHash: 8, reason: 'no matching key' },
  other: { portnum: 256, bytes: 'AAE=' },
};

const receptions: Reception[] = PORTS.map((port, i) =>
  rx(port, PAYLOADS[port], {
    from: BOB,
    to: i % 2 ? CAROL : 0xffffffff,
    id: 5000 + i,
    at: at + i * 1000,
    agent: AGENT,
  }),
);
const snapshot: NodeDbSnapshot = nodedb(
  AGENT,
  [
    {
      num: BOB,
      user: {
        id: '!0000beef',
        longName: 'Bob',
        shortName: 'BOB',
        macaddr: mac,
        hwModel: 43,
        role: 2,
        isLicensed: true,
      },
      position: { latitudeI: 525200000, longitudeI: 134050000, latitude: 52.52, longitude: 13.405, altitude: 40 },
      deviceMetrics: { batteryLevel: 0, voltage: 3.71 },
      snr: 6.25,
      hopsAway: 1,
      lastHeard: Math.floor(now / 1000),
      isFavorite: true,
    },
  ],
  now - 1000,
);
const traces: TraceOutcome[] = [trace(AGENT, 0x1234, CAROL, [0x1234, BOB, CAROL], { at: now - 2000 })];
const location = { name: 'Legacy Roof', lat: 52.5, lon: 13.4 };

describe("the agent's legacy bodies, read by the API's legacy endpoints", () => {
  let s: Stack;
  const republished: MeshEvent[] = [];
  const post = (path: string, body: unknown) =>
    getJson(`${s.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEYS[AGENT] },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    s = await startStack('[legacy]\nsite = legacy\n');
    expect((await post('/api/agent/register', legacyRegisterBody(AGENT, location))).body).toEqual({
      status: 'success',
      agent_id: AGENT,
    });
    const data = await post('/api/agent/data', legacyDataBody(AGENT, location, receptions, now));
    expect(data).toMatchObject({ status: 200, body: { status: 'success', received: receptions.length } });
    expect(data.body.rejected).toBeUndefined();
    const nodes = await post(
      '/api/agent/nodedb',
      legacyNodeDbBody(AGENT, snapshot, () => true),
    );
    expect(nodes).toMatchObject({ status: 200, body: { status: 'success', updated: 1 } });
    const routes = await post('/api/agent/routes', legacyRoutesBody(AGENT, traces, now));
    expect(routes).toMatchObject({ status: 200, body: { status: 'success', routes_stored: 1 } });
    const jsm = await s.nc.jetstreamManager();
    // register (status) + receptions + node_status snapshot + nodedb + trace
    const expected = 1 + receptions.length + 1 + 1 + 1;
    await waitFor('republished events', async () => {
      republished.length = 0;
      await readStreamRange(s.js, jsm, { stream: streams.hub, filter: `mesh.v1.legacy.${AGENT}.>` }, (m) => {
        republished.push(m.json<MeshEvent>());
      });
      return republished.length >= expected ? true : undefined;
    });
    expect(republished).toHaveLength(expected);
  });
  afterAll(async () => s?.dispose());

  const received = () => republished.filter((e): e is Reception => e.kind === 'reception');
  const byId = (id: number) => received().find((r) => r.packet.id === id)!;

  it('accepts a packet of every port, each under the port its original type name stands for', () => {
    expect(received()).toHaveLength(PORTS.length);
    for (const r of receptions) {
      const back = byId(r.packet.id);
      expect(back.port, r.port).toBe(portOfLegacyType(legacyTypeOfPort(r.port)));
      expect(back.packet).toMatchObject({
        from: r.packet.from,
        to: r.packet.to,
        id: r.packet.id,
        channel: r.packet.channel,
        rxTime: r.packet.rxTime,
        rxSnr: r.packet.rxSnr,
        rxRssi: r.packet.rxRssi,
        hopStart: r.packet.hopStart,
        hopLimit: r.packet.hopLimit,
        wantAck: r.packet.wantAck,
      });
      expect(back.source).toBe('legacy-http');
    }
  });

  it('keeps every payload field the original format carries, zeros and the way back of a traceroute included', () => {
    const p = (port: Port) => byId(receptions.find((r) => r.port === port)!.packet.id).payload;
    expect(p('text')).toEqual(PAYLOADS.text);
    expect(p('rangetest')).toEqual(PAYLOADS.rangetest);
    expect(p('position')).toEqual(PAYLOADS.position);
    expect(p('telemetry')).toEqual(PAYLOADS.telemetry);
    expect(p('nodeinfo')).toEqual(PAYLOADS.nodeinfo);
    expect(p('routing')).toEqual(PAYLOADS.routing);
    expect(p('traceroute')).toEqual(PAYLOADS.traceroute);
    for (const port of ['neighborinfo', 'waypoint', 'mapreport', 'storeforward', 'paxcounter'] as const)
      expect(p(port), port).toMatchObject({ legacy: PAYLOADS[port] });
    expect(p('encrypted')).toMatchObject({ channelHash: 0 });
  });

  it('carries the node DB and the traceroute outcome', () => {
    const snaps = republished.filter((e): e is NodeDbSnapshot => e.kind === 'nodedb' && e.reason === 'legacy');
    const full = snaps.find((e) => e.takenAt === snapshot.takenAt)!;
    expect(full.nodes).toEqual(snapshot.nodes);
    const t = republished.find((e): e is TraceOutcome => e.kind === 'trace')!;
    const [sent] = traces;
    expect(t).toMatchObject({
      from: sent!.from,
      to: sent!.to,
      startedAt: sent!.startedAt,
      finishedAt: sent!.finishedAt,
      outcome: 'success',
      towards: sent!.towards,
      back: sent!.back,
    });
  });
});
