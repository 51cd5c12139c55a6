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

describe('simulator → agent (TCP) → leaf → hub', () => {
  let stack: Stack;
  let sim: Simulator;
  let agent: RunningAgent;

  beforeAll(async () => {
    stack = await startStack();
    sim = await startSimulator({ seed: 7, nodes: 12, rate: 40 });
    agent = await startAgent(settingsFrom(agentIni({ leafUrl: stack.leafUrl, simPort: sim.port })), {
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
});
