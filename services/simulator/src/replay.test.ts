import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, fromBinary, Mesh, toBinary } from '@mmm/meshtastic';
import { fixturePath, waitFor } from '@mmm/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { CaptureError, loadCapture } from './replay.js';
import { type Simulator, startSimulator } from './simulator.js';
import { RadioClient } from './test-radio-client.js';

const POTATO = fixturePath('potato-mesh_mesh_udp_capture.jsonl');
const FRIENDLY = fixturePath('friendlydev_mqtt_serviceenvelopes.b64.txt');
let s: Simulator | undefined;
let c: (RadioClient & { close(): void }) | undefined;

afterEach(async () => {
  c?.close();
  await s?.stop();
});

const bytes = (p: Mesh.MeshPacket) => Buffer.from(toBinary(Mesh.MeshPacketSchema, p)).toString('hex');

describe('capture replay', () => {
  it('emits the 32 Mesh-via-UDP packets exactly as captured, 21 of them readable with the default key', async () => {
    s = await startSimulator({ port: 0, replay: POTATO, rate: 500 });
    c = await RadioClient.tcp(s.port);
    const cfg = await c.wantConfig(5);
    const pkts = await c.waitForPackets('the capture', (p) => p.length >= 32);
    expect(pkts).toHaveLength(32);
    const lines = (await import('node:fs')).readFileSync(POTATO, 'utf8').trim().split('\n');
    const expected = lines.map((l) =>
      bytes(fromBinary(Mesh.MeshPacketSchema, Buffer.from(JSON.parse(l).raw_b64, 'base64'))),
    );
    expect(pkts.map(bytes)).toEqual(expected);
    expect(s.sent.count).toBe(32);
    expect(s.sent.byPort.encrypted).toBe(11);
    expect(s.sent.byPort).toMatchObject({ position: 9, telemetry: 3, text: 3, traceroute: 3, nodeinfo: 2, routing: 1 });
    // The node DB lists the capture's senders.
    const senders = new Set(pkts.map((p) => p.from));
    const infos = cfg
      .filter((f) => f.payloadVariant.case === 'nodeInfo')
      .map((f) => (f.payloadVariant.value as Mesh.NodeInfo).num);
    for (const n of senders) expect(infos).toContain(n);
    // Without --loop the replay ends.
    expect(s.capture?.packets).toHaveLength(32);
  });

  it('reads base64 ServiceEnvelopes, skipping the malformed ones, and loops with fresh rxTime', async () => {
    const cap = loadCapture(FRIENDLY);
    expect(cap.format).toBe('serviceenvelope-b64');
    expect(cap.packets).toHaveLength(323);
    expect(cap.skipped).toBe(14);
    const clock = () => 1_800_000_000_000;
    s = await startSimulator({ port: 0, replay: POTATO, rate: 2000, loop: true, clock });
    c = await RadioClient.tcp(s.port);
    await c.wantConfig(5);
    const pkts = await c.waitForPackets('two passes', (p) => p.length >= 70);
    expect(bytes(create(Mesh.MeshPacketSchema, { ...pkts[32]!, rxTime: pkts[0]!.rxTime }))).toBe(bytes(pkts[0]!));
    expect(pkts[32]!.rxTime).toBe(1_800_000_000);
    await waitFor('sent to count the loop', () => s!.sent.count >= 70);
  });

  it('fails clearly on a missing or useless capture', () => {
    expect(() => loadCapture('/nonexistent/capture.jsonl')).toThrow(CaptureError);
    const junk = join(tmpdir(), `mmm-sim-junk-${process.pid}.txt`);
    writeFileSync(junk, 'not base64 at all!!\n%%%\n');
    expect(() => loadCapture(junk)).toThrow(/no packet that parses \(2 lines skipped\)/);
    rmSync(junk);
  });
});
