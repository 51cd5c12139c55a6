import {
  type Channel,
  type Config,
  create,
  DEFAULT_KEY,
  fromBinary,
  Mesh,
  type ModuleConfig,
  Mqtt,
  PaxCount,
  Portnums,
  StoreForward,
  Telemetry,
  xcrypt,
} from '@mmm/meshtastic';
import { portFromPortnum } from '@mmm/schemas';
import { waitFor } from '@mmm/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { HOSTILE_NAME, HOSTILE_TEXT, HOSTILE_WAYPOINT } from './names.js';
import { PRIMARY_HASH } from './radio.js';
import { packetKey, type Simulator, SimulatorListenError, startSimulator } from './simulator.js';
import { RadioClient } from './test-radio-client.js';
import { TRAFFIC_KINDS } from './traffic.js';

const P = Portnums.PortNum;
const running: Simulator[] = [];
const clients: { close(): void }[] = [];

async function sim(opts: Parameters<typeof startSimulator>[0]): Promise<Simulator> {
  const s = await startSimulator({ port: 0, ...opts });
  running.push(s);
  return s;
}

async function client(s: Simulator) {
  const c = await RadioClient.tcp(s.port, s.host);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

/** The Data inside a packet, decrypting with `key` when it is encrypted. */
function open(pkt: Mesh.MeshPacket, key: Uint8Array = DEFAULT_KEY): Mesh.Data | undefined {
  if (pkt.payloadVariant.case === 'decoded') return pkt.payloadVariant.value;
  if (pkt.payloadVariant.case !== 'encrypted') return undefined;
  try {
    const d = fromBinary(Mesh.DataSchema, xcrypt(key, pkt.id, pkt.from, pkt.payloadVariant.value));
    return d.portnum in P && d.portnum !== 0 ? d : undefined;
  } catch {
    return undefined;
  }
}

const hasFrameStart = (b: Uint8Array) => b.some((x, i) => x === 0x94 && b[i + 1] === 0xc3);

describe('config exchange', () => {
  it('answers want_config_id with my_info, node DB, channels, config and the echoed nonce', async () => {
    const s = await sim({ nodes: 15, rate: 0, seed: 11, hostileNames: true });
    const c = await client(s);
    const seq = await c.wantConfig(0xbeef1234);
    const byCase = (k: string) => seq.filter((f) => f.payloadVariant.case === k).map((f) => f.payloadVariant.value);
    expect(seq[0]!.payloadVariant).toMatchObject({ case: 'myInfo', value: { myNodeNum: s.myNodeNum } });
    expect(seq.at(-1)!.payloadVariant).toEqual({ case: 'configCompleteId', value: 0xbeef1234 });
    expect(byCase('metadata')).toHaveLength(1);
    expect((byCase('metadata')[0] as Mesh.DeviceMetadata).firmwareVersion).toMatch(/^2\.7\./);

    const infos = byCase('nodeInfo') as Mesh.NodeInfo[];
    expect(infos.map((n) => n.num).sort()).toEqual(s.nodes.map((n) => n.num).sort());
    for (const info of infos) {
      const node = s.nodes.find((n) => n.num === info.num)!;
      expect(info.user).toMatchObject({
        id: node.id,
        longName: node.longName,
        shortName: node.shortName,
        hwModel: node.hwModel,
        role: node.role,
      });
      expect(info.position?.latitudeI).toBe(Math.round(node.lat * 1e7));
      expect(info.deviceMetrics?.batteryLevel).toBe(node.batteryLevel);
      expect(info.lastHeard).toBeGreaterThan(0);
      if (info.num !== s.myNodeNum) expect(info.hopsAway).toBe(node.hopsAway);
    }
    expect(new Set(infos.map((n) => n.user!.role))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
    expect(infos.some((n) => n.user!.longName === HOSTILE_NAME[0])).toBe(true);
    expect(infos.some((n) => /\p{Extended_Pictographic}/u.test(n.user!.longName))).toBe(true);

    const channels = byCase('channel') as Channel.Channel[];
    expect(channels).toHaveLength(8);
    expect(channels[0]).toMatchObject({ index: 0, role: 1, settings: { psk: new Uint8Array([1]) } });
    expect(channels[1]).toMatchObject({ index: 1, role: 2, settings: { name: 'Ops', psk: s.privateChannel.key } });
    const configCases = (byCase('config') as Config.Config[]).map((x) => x.payloadVariant.case);
    expect(configCases).toEqual(expect.arrayContaining(['device', 'lora', 'position', 'security']));
    expect((byCase('moduleConfig') as ModuleConfig.ModuleConfig[]).map((x) => x.payloadVariant.case)).toContain(
      'neighborInfo',
    );
    // "Café —été" carries 0x94 0xC3 inside a frame; the strict deframer must still have framed every message.
    expect(c.payloads.some(hasFrameStart)).toBe(true);
  });

  it('honours the firmware nonces for config only and node DB only', async () => {
    const s = await sim({ nodes: 6, rate: 0 });
    const c = await client(s);
    const cfgOnly = await c.wantConfig(69_420);
    expect(cfgOnly.filter((f) => f.payloadVariant.case === 'nodeInfo')).toHaveLength(1);
    expect(cfgOnly.some((f) => f.payloadVariant.case === 'config')).toBe(true);
    const nodesOnly = await c.wantConfig(69_421);
    expect(nodesOnly.filter((f) => f.payloadVariant.case === 'nodeInfo')).toHaveLength(6);
    expect(nodesOnly.some((f) => f.payloadVariant.case === 'config')).toBe(false);
  });

  it('survives garbage, broken frames and unknown messages, then still serves the config', async () => {
    const s = await sim({ nodes: 4, rate: 0 });
    const c = await client(s);
    c.socket.write(Buffer.from('AT+RESET\r\n\x94\x94\xc3'));
    c.socket.write(Buffer.from([0x94, 0xc3, 0x00, 0x03, 0xff, 0xff, 0xff])); // a frame that is not a ToRadio
    c.socket.write(Buffer.from([0x94, 0xc3, 0x7f, 0xff])); // a length beyond 512: a false start
    c.send({ case: 'heartbeat', value: create(Mesh.HeartbeatSchema, { nonce: 1 }) });
    c.send({
      case: 'packet',
      value: create(Mesh.MeshPacketSchema, {
        to: 5,
        wantAck: true,
        payloadVariant: { case: 'encrypted', value: new Uint8Array([1, 2, 3]) },
      }),
    });
    const seq = await c.wantConfig(7);
    expect(seq.at(-1)!.payloadVariant).toEqual({ case: 'configCompleteId', value: 7 });
    expect(c.frames.filter((f) => f.payloadVariant.case !== 'packet')).toHaveLength(seq.length); // heartbeats need no answer
  });
});

describe('live traffic', () => {
  it('streams every port, decodable with the default key except the private channel, as counted by sent', async () => {
    const s = await sim({ nodes: 25, rate: 400, seed: 5 });
    const c = await client(s);
    await c.wantConfig(1);
    const wanted = new Set([
      'position',
      'nodeinfo',
      'telemetry',
      'text',
      'routing',
      'neighborinfo',
      'waypoint',
      'mapreport',
      'rangetest',
      'storeforward',
      'paxcounter',
      'encrypted',
    ]);
    await waitFor(
      'every port',
      () => [...wanted].every((p) => (s.sent.byPort[p as keyof typeof s.sent.byPort] ?? 0) >= 3) && s.sent.count >= 600,
      30_000,
      50,
    );
    s.pause();
    const pkts = await c.waitForPackets('all sent packets', (p) => p.length >= s.sent.count);
    expect(pkts).toHaveLength(s.sent.count);
    expect(new Set(pkts.map((p) => packetKey(p.from, p.id)))).toEqual(s.sent.ids);

    const ports = new Map<string, number>();
    const telemetry = new Set<string>();
    let encrypted = 0;
    let decoded = 0;
    for (const pkt of pkts) {
      if (pkt.payloadVariant.case === 'encrypted') encrypted++;
      else decoded++;
      const data = open(pkt);
      if (!data) {
        // Only the private channel fails with the default key, and it opens with its own key.
        expect(pkt.channel).toBe(s.privateChannel.hash);
        expect(open(pkt, s.privateChannel.key)?.portnum).toBe(P.TEXT_MESSAGE_APP);
        ports.set('encrypted', (ports.get('encrypted') ?? 0) + 1);
        continue;
      }
      if (pkt.payloadVariant.case === 'encrypted') expect(pkt.channel).toBe(PRIMARY_HASH);
      const port = portFromPortnum(data.portnum);
      ports.set(port, (ports.get(port) ?? 0) + 1);
      const b = data.payload;
      switch (data.portnum) {
        case P.POSITION_APP: {
          const pos = fromBinary(Mesh.PositionSchema, b);
          const node = s.nodes.find((n) => n.num === pkt.from)!;
          expect(Math.abs(pos.latitudeI! / 1e7 - node.lat)).toBeLessThan(0.05);
          break;
        }
        case P.NODEINFO_APP:
          expect(fromBinary(Mesh.UserSchema, b).id).toBe(`!${pkt.from.toString(16).padStart(8, '0')}`);
          break;
        case P.TELEMETRY_APP:
          telemetry.add(fromBinary(Telemetry.TelemetrySchema, b).variant.case!);
          break;
        case P.TEXT_MESSAGE_APP:
          expect(new TextDecoder('utf-8', { fatal: true }).decode(b).length).toBeGreaterThan(0);
          break;
        case P.ROUTING_APP:
          expect(fromBinary(Mesh.RoutingSchema, b).variant.case).toBe('errorReason');
          expect(data.requestId).not.toBe(0);
          break;
        case P.NEIGHBORINFO_APP: {
          const ni = fromBinary(Mesh.NeighborInfoSchema, b);
          expect(ni.nodeId).toBe(pkt.from);
          expect(ni.neighbors.length).toBeGreaterThan(0);
          const links = s.links();
          for (const nb of ni.neighbors)
            expect(links.find((l) => l.from === nb.nodeId && l.to === pkt.from)?.snr).toBe(nb.snr);
          break;
        }
        case P.WAYPOINT_APP:
          expect(fromBinary(Mesh.WaypointSchema, b).name.length).toBeGreaterThan(0);
          break;
        case P.MAP_REPORT_APP:
          expect(fromBinary(Mqtt.MapReportSchema, b).longName).toBe(s.nodes.find((n) => n.num === pkt.from)!.longName);
          break;
        case P.RANGE_TEST_APP:
          expect(new TextDecoder().decode(b)).toMatch(/^seq \d+$/);
          break;
        case P.STORE_FORWARD_APP:
          expect(fromBinary(StoreForward.StoreAndForwardSchema, b).variant.case).toMatch(/heartbeat|stats/);
          break;
        case P.PAXCOUNTER_APP:
          expect(fromBinary(PaxCount.PaxcountSchema, b).ble).toBeGreaterThanOrEqual(0);
          break;
        default:
          throw new Error(`unexpected port ${data.portnum}`);
      }
    }
    expect(new Set(ports.keys())).toEqual(wanted);
    for (const [port, n] of ports) expect(n).toBe(s.sent.byPort[port as keyof typeof s.sent.byPort]);
    expect(telemetry).toEqual(
      new Set([
        'deviceMetrics',
        'environmentMetrics',
        'powerMetrics',
        'airQualityMetrics',
        'localStats',
        'healthMetrics',
      ]),
    );
    expect(encrypted).toBeGreaterThan(decoded); // most traffic arrives encrypted, as on a real mesh
    expect(decoded).toBeGreaterThan(0);
  });

  it('derives rxSnr, rxRssi, hops and relay_node from the topology', async () => {
    const s = await sim({ nodes: 40, rate: 300, seed: 3 });
    const c = await client(s);
    await c.wantConfig(1);
    await waitFor('packets', () => s.sent.count >= 300, 20_000, 50);
    s.pause();
    const pkts = await c.waitForPackets('all sent packets', (p) => p.length >= s.sent.count);
    let multiHop = 0;
    for (const pkt of pkts) {
      if (pkt.from === s.myNodeNum) continue;
      const path = s.pathToGateway(pkt.from);
      const last = s.links().find((l) => l.from === path.at(-2) && l.to === s.myNodeNum)!;
      expect(pkt.hopStart - pkt.hopLimit).toBe(path.length - 2);
      expect(pkt.relayNode).toBe(path.at(-2)! & 0xff);
      expect(Math.abs(pkt.rxSnr - last.snr)).toBeLessThanOrEqual(1);
      expect(Number.isInteger(pkt.rxSnr * 4)).toBe(true);
      expect(Math.abs(pkt.rxRssi - last.rssi)).toBeLessThanOrEqual(2);
      expect(pkt.rxTime).toBeGreaterThan(1_700_000_000);
      if (path.length > 2) multiHop++;
    }
    expect(multiHop).toBeGreaterThan(0);
  });

  it('sends live payloads carrying the bytes 0x94 0xC3 on the wire, and non-ASCII text', async () => {
    const s = await sim({ nodes: 10, rate: 500, seed: 9 });
    const c = await client(s);
    await c.wantConfig(1);
    // A decoded "café —été" puts E2 80 94 C3 A9 into the frame itself; deframers that scan payloads desync on it.
    const carrying = () =>
      c.packets().filter((p) => p.payloadVariant.case === 'decoded' && hasFrameStart(p.payloadVariant.value.payload));
    await waitFor('a decoded text with 0x94 0xC3', () => carrying().length > 0, 20_000, 50);
    const text = new TextDecoder().decode((carrying()[0]!.payloadVariant.value as Mesh.Data).payload);
    expect(text).toBe('café —été');
    s.pause();
    // Every frame after it was still framed and parsed: nothing was lost to the embedded start bytes.
    await c.waitForPackets('all sent packets', (p) => p.length >= s.sent.count);
    expect(c.packets()).toHaveLength(s.sent.count);
  });

  it('is the same packet sequence for the same seed, byte for byte with a fixed clock', async () => {
    const clock = () => 1_764_000_000_000;
    const run = async (seed: number) => {
      const s = await sim({ nodes: 12, rate: 300, seed, clock });
      const c = await client(s);
      await c.wantConfig(1);
      await c.waitForPackets('100 packets', (p) => p.length >= 100);
      c.close();
      return c.payloads.map((b) => Buffer.from(b).toString('hex')).slice(0, 140);
    };
    const [a, b, other] = [await run(77), await run(77), await run(78)];
    expect(b).toEqual(a);
    expect(other).not.toEqual(a);
  });

  it('gives each of several clients its own config exchange and the live stream', async () => {
    const s = await sim({ nodes: 8, rate: 100 });
    const [a, b] = [await client(s), await client(s)];
    await waitFor('two connections', () => s.connections() === 2);
    const [ca, cb] = await Promise.all([a.wantConfig(101), b.wantConfig(202)]);
    expect(ca.at(-1)!.payloadVariant.value).toBe(101);
    expect(cb.at(-1)!.payloadVariant.value).toBe(202);
    await a.waitForPackets('live packets on a', (p) => p.length >= 20);
    await b.waitForPackets('live packets on b', (p) => p.length >= 20);
    let last = '';
    s.onSent((p) => {
      last = packetKey(p.from, p.id);
    });
    await waitFor('another packet', () => last !== '');
    s.pause();
    const lastOf = (x: RadioClient) => {
      const p = x.packets().at(-1);
      return p && packetKey(p.from, p.id);
    };
    await waitFor('both clients to have the last packet', () => lastOf(a) === last && lastOf(b) === last);
    a.close();
    await waitFor('one connection', () => s.connections() === 1);
  });

  it('follows setRate, pause and resume, and sends nothing before want_config_id', async () => {
    const s = await sim({ nodes: 5, rate: 200 });
    const idle = await client(s);
    const c = await client(s);
    await c.wantConfig(1);
    await c.waitForPackets('packets', (p) => p.length >= 10);
    s.pause();
    s.setRate(0);
    const frozen = s.sent.count;
    await c.waitForPackets('the rest', (p) => p.length >= frozen);
    s.resume();
    // Nothing is generated at rate 0 even when resumed: a heartbeat round-trip shows the radio is alive but quiet.
    const text = create(Mesh.DataSchema, { portnum: P.TEXT_MESSAGE_APP, payload: new TextEncoder().encode('hi') });
    c.send({
      case: 'packet',
      value: create(Mesh.MeshPacketSchema, {
        to: s.myNodeNum,
        id: 4242,
        wantAck: true,
        payloadVariant: { case: 'decoded', value: text },
      }),
    });
    await c.waitForPackets('the ACK', (p) => p.some((x) => open(x)?.requestId === 4242));
    expect(s.sent.count).toBe(frozen + 1);
    s.setRate(200);
    await waitFor('traffic again', () => s.sent.count > frozen + 10);
    expect(() => s.setRate(-1)).toThrow(/rate/);
    expect(idle.frames).toHaveLength(0);
  });

  it('interleaves debug log text between frames when asked, without losing a frame', async () => {
    const s = await sim({ nodes: 10, rate: 300, seed: 9, debugLog: true });
    const c = await client(s);
    await c.wantConfig(1);
    await waitFor(
      'packets from the "Café —été" node',
      () => c.debug.some((t) => t.includes('(Café —été)')),
      20_000,
      50,
    );
    s.pause();
    await c.waitForPackets('all sent packets', (p) => p.length >= s.sent.count);
    expect(c.packets()).toHaveLength(s.sent.count);
    expect(c.debug.join('')).toMatch(/^DEBUG \| \d\d:\d\d:\d\d \[Router\] Received from=0x[0-9a-f]{8}/m);
  });

  it('keeps serving when a client vanishes mid-stream', async () => {
    const s = await sim({ nodes: 10, rate: 2000, seed: 1 });
    const [gone, stays] = [await client(s), await client(s)];
    await Promise.all([gone.wantConfig(1), stays.wantConfig(2)]);
    await gone.waitForPackets('traffic', (p) => p.length >= 50);
    gone.socket.resetAndDestroy(); // TCP RST, as when the agent's host dies
    await waitFor('one connection', () => s.connections() === 1);
    const before = stays.packets().length;
    await stays.waitForPackets('more traffic', (p) => p.length >= before + 200);
  });

  it('with hostile names, also sends markup in texts and waypoint names', async () => {
    const s = await sim({ nodes: 6, rate: 1000, seed: 2, hostileNames: true });
    const c = await client(s);
    await c.wantConfig(1);
    const seen = () =>
      c.packets().flatMap((p) => {
        const d = open(p);
        if (d?.portnum === P.TEXT_MESSAGE_APP) return [new TextDecoder().decode(d.payload)];
        if (d?.portnum === P.WAYPOINT_APP) return [fromBinary(Mesh.WaypointSchema, d.payload).name];
        return [];
      });
    await waitFor(
      'markup in a text and a waypoint',
      () => seen().includes(HOSTILE_TEXT) && seen().includes(HOSTILE_WAYPOINT),
      20_000,
      50,
    );
  });

  it('refuses a port that is taken, naming it', async () => {
    const s = await sim({ nodes: 3, rate: 0 });
    await expect(startSimulator({ port: s.port, nodes: 3 })).rejects.toThrow(
      new RegExp(`127\\.0\\.0\\.1:${s.port} is already in use`),
    );
    await expect(startSimulator({ port: s.port, nodes: 3 })).rejects.toBeInstanceOf(SimulatorListenError);
  });

  it('broadcasts a moved position and a renamed node at once', async () => {
    const s = await sim({ nodes: 6, rate: 0 });
    const c = await client(s);
    await c.wantConfig(1);
    const node = s.nodes[3]!;
    s.movePosition(node, 48.1371, 11.5754);
    s.renameNode(node.num, 'Renamed 🛰', 'RNM');
    const pkts = await c.waitForPackets('position and nodeinfo', (p) => p.length >= 2);
    const [pos, user] = pkts.map((p) => open(p)!);
    expect(fromBinary(Mesh.PositionSchema, pos!.payload).latitudeI).toBe(481371000);
    expect(fromBinary(Mesh.UserSchema, user!.payload)).toMatchObject({ longName: 'Renamed 🛰', shortName: 'RNM' });
    expect(s.nodes[3]!.longName).toBe('Renamed 🛰');
    expect(() => s.movePosition(123, 0, 0)).toThrow(/not in the mesh/);
  });

  it('drains and charges a node: its device telemetry at once, with the battery level set', async () => {
    const s = await sim({ nodes: 6, rate: 0 });
    const c = await client(s);
    await c.wantConfig(1);
    const node = s.nodes[2]!;
    s.setBattery(node, 7);
    const [pkt] = await c.waitForPackets('device telemetry', (p) => p.length >= 1);
    const tel = fromBinary(Telemetry.TelemetrySchema, open(pkt!)!.payload);
    expect(pkt!.from).toBe(node.num);
    expect(tel.variant.case).toBe('deviceMetrics');
    expect((tel.variant.value as { batteryLevel: number }).batteryLevel).toBe(7);
    expect(s.nodes[2]!.batteryLevel).toBe(7);
    expect(() => s.setBattery(node, 102)).toThrow(/not 0-101/);
  });

  it('silences a node: nothing from it reaches the client at a high rate, until it is back', async () => {
    const s = await sim({ nodes: 4, rate: 200 });
    const c = await client(s);
    await c.wantConfig(1);
    const node = s.nodes[1]!;
    await c.waitForPackets('traffic from the node', (p) => p.some((x) => x.from === node.num), 10_000);
    // Paused while silencing, so no packet of the node is still on the wire when counting starts.
    s.pause();
    await new Promise((r) => setTimeout(r, 300));
    s.setSilent(node, true);
    const silencedAt = c.packets().length;
    s.resume();
    // 600 more packets among 3 other senders and the gateway: the node would have sent ~150 of them.
    await c.waitForPackets('traffic while silent', (p) => p.length >= silencedAt + 600, 20_000);
    expect(
      c
        .packets()
        .slice(silencedAt)
        .filter((x) => x.from === node.num),
    ).toEqual([]);
    expect(s.setBattery(node, 50)).toBeUndefined();
    s.setSilent(node, false);
    expect(s.setBattery(node, 60)?.from).toBe(node.num);
    await c.waitForPackets('the node back', (p) => p.slice(silencedAt).some((x) => x.from === node.num), 10_000);
    expect(() => s.setSilent(s.myNodeNum, true)).toThrow(/gateway cannot be silenced/);
  });

  it('unplugs the radio: clients are disconnected and refused until it is plugged in again', async () => {
    const s = await sim({ nodes: 4, rate: 0 });
    const closed = (c: { socket: { closed: boolean } }) =>
      waitFor('the connection closed', () => c.socket.closed, 5_000, 20);
    const a = await client(s);
    await a.wantConfig(1);
    s.unplug();
    await closed(a);
    const b = await client(s);
    await closed(b);
    expect(s.connections()).toBe(0);
    s.plugIn();
    const c = await client(s);
    await c.wantConfig(2);
    expect(s.connections()).toBe(1);
  });

  it('injects one packet of each kind on demand', async () => {
    const s = await sim({ nodes: 6, rate: 0 });
    const c = await client(s);
    await c.wantConfig(1);
    for (const k of TRAFFIC_KINDS)
      expect(s.inject(k)?.port).toBe(k === 'private' ? 'encrypted' : k === 'telemetry' ? 'telemetry' : k);
    await c.waitForPackets('injected', (p) => p.length === TRAFFIC_KINDS.length);
  });
});
