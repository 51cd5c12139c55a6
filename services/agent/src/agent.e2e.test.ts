import { type MeshEvent, type Reception, subjects, validateEvent } from '@mmm/schemas';
import { packetKey, type Simulator, startSimulator } from '@mmm/simulator';
import { waitFor } from '@mmm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningAgent, startAgent } from './agent.js';
import { agentIni, quietLog, readStream, type Stack, settingsFrom, startStack } from './testing/test-stack.js';

/** Receptions on the hub: every simulated packet once, by packet key and by Msg-Id. */
export async function hubReceptions(stack: Stack) {
  const events = await readStream(stack.hubNc, 'MESH', subjects.rxFilter({ site: 'site1' }));
  const keys = events.map((e) => {
    const r = e.data as unknown as Reception;
    return packetKey(r.packet.from, r.packet.id);
  });
  return { events, keys, ids: new Set(events.map((e) => e.msgId)) };
}

type NodeDbEvent = Extract<MeshEvent, { kind: 'nodedb' }>;
type StatusEvent = Extract<MeshEvent, { kind: 'status' }>;

/** Short cadences so interval snapshots, the status heartbeat and a stalled radio are seen within seconds. */
const STALL_TIMEOUT_S = 5;
const NODEDB_INTERVAL_MS = 3_000;
const STATUS_INTERVAL_MS = 1_000;

function shortCadenceIni(leafUrl: string, simPort: number): string {
  return agentIni({
    leafUrl,
    simPort,
    extra: `[nodedb]\ninterval_minutes = ${NODEDB_INTERVAL_MS / 60_000}\nchange_debounce = 1\n[status]\ninterval = ${STATUS_INTERVAL_MS / 1000}\n`,
  }).replace('heartbeat_interval = 5', `heartbeat_interval = 1\nstall_timeout = ${STALL_TIMEOUT_S}`);
}

describe('simulator → agent (TCP) → leaf → hub', () => {
  let stack: Stack;
  let sim: Simulator;
  let agent: RunningAgent;

  beforeAll(async () => {
    stack = await startStack();
    sim = await startSimulator({ seed: 7, nodes: 12, rate: 40 });
    agent = await startAgent(settingsFrom(shortCadenceIni(stack.leafUrl, sim.port)), {
      log: quietLog(),
    });
  });
  afterAll(async () => {
    await agent?.stop();
    await sim?.stop();
    await stack?.dispose();
  });

  it('delivers every simulated packet exactly once, as valid events', async () => {
    await waitFor('the radio to be configured', () => agent.session.state === 'connected', 15_000);
    await waitFor('200 packets sent', () => sim.sent.count >= 200, 20_000);
    sim.pause();
    const sent = sim.sent.count;
    const got = await waitFor(
      'every packet on the hub',
      async () => {
        const r = await hubReceptions(stack);
        return r.events.length >= sent ? r : undefined;
      },
      20_000,
      250,
    );
    expect(got.events.length).toBe(sent);
    expect(new Set(got.keys)).toEqual(sim.sent.ids);
    expect(got.ids.size).toBe(sent);
    for (const e of got.events) {
      const v = validateEvent(e.data);
      expect(v.ok ? undefined : `${e.subject}: ${v.error}`).toBeUndefined();
    }
    expect(agent.radio.myNodeNum).toBe(sim.myNodeNum);
    // Slow steady traffic from here on: frames keep arriving well within the stall timeout.
    sim.setRate(5);
    sim.resume();
  });

  it('publishes node DB and status events', async () => {
    await agent.publishStatus();
    const nodedb = await waitFor('a nodedb snapshot', async () => {
      const ev = await readStream(stack.hubNc, 'MESH', subjects.nodedb('site1', 'agent1'));
      return ev.length > 0 ? ev : undefined;
    });
    const snap = nodedb[0]!.data as unknown as Extract<MeshEvent, { kind: 'nodedb' }>;
    expect(validateEvent(snap).ok).toBe(true);
    expect(snap.reason).toBe('connect');
    expect(snap.nodes.length).toBeGreaterThanOrEqual(sim.nodes.length - 1);
    const status = await waitFor('a status event', async () => {
      const ev = await readStream(stack.hubNc, 'MESH', subjects.status('site1', 'agent1'));
      return ev.length > 0 ? ev : undefined;
    });
    const st = status.at(-1)!.data as unknown as Extract<MeshEvent, { kind: 'status' }>;
    expect(validateEvent(st)).toMatchObject({ ok: true });
    expect(st.radio.state).toBe('connected');
    expect(st.radio.myNodeNum).toBe(sim.myNodeNum);
    expect(st.counters.receptions).toBeGreaterThan(0);
  });

  const nodeDbs = async () =>
    (await readStream(stack.hubNc, 'MESH', subjects.nodedb('site1', 'agent1'))).map(
      (e) => e.data as unknown as NodeDbEvent,
    );
  const statuses = async () =>
    (await readStream(stack.hubNc, 'MESH', subjects.status('site1', 'agent1'))).map(
      (e) => e.data as unknown as StatusEvent,
    );

  it('sends a status heartbeat on its interval without being asked', async () => {
    await waitFor('the radio to be configured', () => agent.session.state === 'connected', 15_000);
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 4 * STATUS_INTERVAL_MS + 500));
    const beats = (await statuses()).filter((e) => e.at >= from && e.at <= from + 4 * STATUS_INTERVAL_MS + 500);
    expect(beats.length).toBeGreaterThanOrEqual(3);
    expect(beats.length).toBeLessThanOrEqual(6);
    for (const [i, b] of beats.entries()) {
      expect(validateEvent(b)).toMatchObject({ ok: true });
      expect(b.radio.state).toBe('connected');
      if (i > 0) expect(b.counters.receptions).toBeGreaterThanOrEqual(beats[i - 1]!.counters.receptions ?? 0);
    }
  });

  it('sends node-DB snapshots on its interval and soon after a node is renamed', async () => {
    const from = Date.now();
    const intervals = await waitFor(
      'two interval snapshots',
      async () => {
        const s = (await nodeDbs()).filter((e) => e.reason === 'interval' && e.takenAt >= from);
        return s.length >= 2 ? s : undefined;
      },
      4 * NODEDB_INTERVAL_MS,
      250,
    );
    const gap = intervals[1]!.takenAt - intervals[0]!.takenAt;
    expect(gap).toBeGreaterThanOrEqual(NODEDB_INTERVAL_MS - 500);
    expect(gap).toBeLessThanOrEqual(NODEDB_INTERVAL_MS + 1500);
    for (const s of intervals) {
      expect(validateEvent(s)).toMatchObject({ ok: true });
      expect(s.nodes.length).toBeGreaterThanOrEqual(sim.nodes.length - 1);
    }

    const node = sim.nodes.find((n) => n.num !== sim.myNodeNum)!;
    const renamedAt = Date.now();
    sim.renameNode(node, 'Renamed on air', 'RNMD');
    const hasNewName = (e: NodeDbEvent) =>
      e.nodes.some((n) => n.num === node.num && n.user?.longName === 'Renamed on air' && n.user.shortName === 'RNMD');
    const change = await waitFor(
      'a change snapshot with the new name',
      async () => (await nodeDbs()).find((e) => e.reason === 'change' && e.takenAt >= renamedAt && hasNewName(e)),
      10_000,
      250,
    );
    expect(validateEvent(change)).toMatchObject({ ok: true });
    // The debounce (1 s) and no interval tick: a change snapshot follows the rename within seconds.
    expect(change.takenAt - renamedAt).toBeLessThan(NODEDB_INTERVAL_MS + 2_000);
    const earlier = (await nodeDbs()).filter((e) => e.takenAt < renamedAt);
    expect(earlier.some(hasNewName)).toBe(false);
  });

  it('reconnects a radio that stays connected but sends nothing for stall_timeout', async () => {
    await waitFor('the radio to be configured', () => agent.session.state === 'connected', 15_000);
    const before = agent.session.reconnects;
    sim.pause();
    const pausedAt = Date.now();
    // Quiet but connected: no reconnect before the stall timeout.
    await new Promise((r) => setTimeout(r, (STALL_TIMEOUT_S - 2) * 1000));
    expect(agent.session.reconnects).toBe(before);
    expect(agent.session.state).toBe('connected');
    expect(sim.connections()).toBe(1);
    await waitFor('a reconnect', () => agent.session.reconnects > before, 15_000, 100);
    const stalledAfter = Date.now() - pausedAt;
    expect(stalledAfter).toBeGreaterThanOrEqual(STALL_TIMEOUT_S * 1000 - 500);
    expect(stalledAfter).toBeLessThan((STALL_TIMEOUT_S + 4) * 1000);
    sim.resume();
    await waitFor('configured again', () => agent.session.state === 'connected', 15_000);
    expect(sim.connections()).toBe(1);
    // Operators see it: a heartbeat after the reconnect counts it, and packets flow again.
    const st = await waitFor('a status event with the reconnect', async () =>
      (await statuses()).find((e) => e.at > pausedAt && e.radio.reconnects > before && e.radio.state === 'connected'),
    );
    expect(validateEvent(st)).toMatchObject({ ok: true });
    const sentBefore = sim.sent.count;
    await waitFor('new packets on the hub', async () => {
      const r = await hubReceptions(stack);
      return r.events.length >= sentBefore + 5;
    });
  });
});
