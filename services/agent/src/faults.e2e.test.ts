import { type AgentStatus, type Reception, subjects } from '@mmm/schemas';
import { packetKey, type Simulator, startSimulator } from '@mmm/simulator';
import { waitFor } from '@mmm/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningAgent, startAgent } from './agent.js';
import { agentIni, quietLog, readStream, type Stack, settingsFrom, startStack } from './testing/test-stack.js';

const HUB_DOWN_MS = 30_000;

async function hubRx(stack: Stack) {
  const events = await readStream(stack.hubNc, 'MESH', subjects.rxFilter({ site: 'site1' }));
  const keys = events.map((e) => {
    const r = e.data as unknown as Reception;
    return packetKey(r.packet.from, r.packet.id);
  });
  return { count: events.length, keys: new Set(keys), msgIds: new Set(events.map((e) => e.msgId)) };
}

async function everythingArrived(stack: Stack, sim: Simulator, timeoutMs: number) {
  const sent = sim.sent.count;
  return waitFor(
    `${sent} receptions on the hub`,
    async () => {
      const r = await hubRx(stack);
      return r.count >= sent ? r : undefined;
    },
    timeoutMs,
    500,
  );
}

describe('faults', () => {
  let stack: Stack | undefined;
  let sims: Simulator[] = [];
  let agent: RunningAgent | undefined;
  afterEach(async () => {
    await agent?.stop();
    for (const s of sims) await s.stop();
    await stack?.dispose();
    stack = undefined;
    agent = undefined;
    sims = [];
  });

  it('hub killed with -9 for 30 s at 50 packets/s: everything arrives exactly once after it returns, and status events say the hub link was down', async () => {
    stack = await startStack();
    const sim = await startSimulator({ seed: 11, nodes: 16, rate: 50 });
    sims.push(sim);
    agent = await startAgent(
      settingsFrom(agentIni({ leafUrl: stack.leafUrl, simPort: sim.port, extra: '[status]\ninterval = 1\n' })),
      { log: quietLog() },
    );
    // Status events as the leaf holds them (the hub is down for part of the test).
    const statuses: { at: number; hubConnected?: boolean; hubBacklog?: number }[] = [];
    const sub = agent.nc.subscribe(subjects.status('site1', 'agent1'));
    void (async () => {
      for await (const m of sub) {
        const st = m.json<AgentStatus>();
        statuses.push({ at: st.at, hubConnected: st.buffer.hubConnected, hubBacklog: st.buffer.hubBacklog });
      }
    })();
    await waitFor('some packets on the hub', async () => (await hubRx(stack!)).count > 50, 20_000, 250);
    await waitFor('a status with the hub linked and caught up', () =>
      statuses.some((s) => s.hubConnected === true && s.hubBacklog === 0),
    );
    const hub = stack.hubAndLeaves.hub;
    await hub.kill('SIGKILL');
    const sentAtKill = sim.sent.count;
    const killedAt = Date.now();
    await waitFor('the 30 s outage to pass', () => Date.now() - killedAt >= HUB_DOWN_MS, HUB_DOWN_MS + 5_000, 200);
    expect(sim.sent.count - sentAtKill).toBeGreaterThan(500); // traffic kept flowing into the leaf meanwhile
    const during = statuses.filter((s) => s.at > killedAt + 1000);
    expect(during.length).toBeGreaterThan(10);
    expect(during.every((s) => s.hubConnected === false && s.hubBacklog === undefined)).toBe(true);
    const restartedAt = Date.now();
    await hub.restart();
    sim.pause();
    const got = await everythingArrived(stack, sim, 60_000);
    expect(got.count).toBe(sim.sent.count); // 0 duplicated
    expect(got.keys).toEqual(sim.sent.ids); // 0 lost
    expect(got.msgIds.size).toBe(got.count);
    await waitFor('a status with the hub linked and caught up again', () =>
      statuses.some((s) => s.at > restartedAt && s.hubConnected === true && s.hubBacklog === 0),
    );
    sub.unsubscribe();
  }, 150_000);

  it('reconnects within 5 s when the simulator restarts under it, and carries on', async () => {
    stack = await startStack();
    const first = await startSimulator({ seed: 21, nodes: 8, rate: 20 });
    sims.push(first);
    const ini = agentIni({ leafUrl: stack.leafUrl, simPort: first.port }).replace('reconnect_max = 2\n', '');
    agent = await startAgent(settingsFrom(ini), { log: quietLog() });
    await waitFor('configured', () => agent!.session.state === 'connected');
    await waitFor('50 packets', () => first.sent.count >= 50);
    const firstIds = new Set(first.sent.ids);
    await first.stop();
    await waitFor('the agent to see the link go', () => agent!.session.state !== 'connected');
    const second = await startSimulator({ seed: 22, nodes: 8, rate: 20, port: first.port });
    sims.push(second);
    const restartedAt = Date.now();
    await waitFor('reconfigured', () => agent!.session.state === 'connected', 10_000, 20);
    expect(Date.now() - restartedAt).toBeLessThan(5_000);
    expect(agent.session.reconnects).toBeGreaterThanOrEqual(1);
    await waitFor('50 more packets', () => second.sent.count >= 50);
    second.pause();
    const expected = new Set([...firstIds, ...second.sent.ids]);
    const got = await waitFor(
      'both simulators’ packets on the hub',
      async () => {
        const r = await hubRx(stack!);
        return r.count >= expected.size ? r : undefined;
      },
      30_000,
      250,
    );
    expect(got.keys).toEqual(expected);
    expect(got.count).toBe(expected.size);
  }, 90_000);

  it('reads the radio over a serial device (PTY via socat) end to end', async () => {
    stack = await startStack();
    const sim = await startSimulator({ seed: 31, nodes: 8, rate: 30 });
    sims.push(sim);
    const pty = await sim.startPty();
    try {
      agent = await startAgent(settingsFrom(agentIni({ leafUrl: stack.leafUrl, devicePath: pty.path })), {
        log: quietLog(),
      });
      await waitFor('configured over serial', () => agent!.session.state === 'connected', 15_000);
      expect(agent.session.transport).toBe('serial');
      await waitFor('100 packets', () => sim.sent.count >= 100, 20_000);
      sim.pause();
      const got = await everythingArrived(stack, sim, 20_000);
      expect(got.keys).toEqual(sim.sent.ids);
      expect(got.count).toBe(sim.sent.count);
    } finally {
      await agent?.stop();
      agent = undefined;
      await pty.stop();
    }
  }, 60_000);

  it('pauses reading the radio while the leaf cannot take events, and loses nothing', async () => {
    stack = await startStack();
    const sim = await startSimulator({ seed: 61, nodes: 8, rate: 50 });
    sims.push(sim);
    const ini = agentIni({ leafUrl: stack.leafUrl, simPort: sim.port }).replace(
      'site = site1\n',
      'site = site1\nmax_backlog = 20\n',
    );
    agent = await startAgent(settingsFrom(ini), { log: quietLog() });
    await waitFor('configured', () => agent!.session.state === 'connected');
    const leaf = stack.hubAndLeaves.leaves.site1!;
    await leaf.kill('SIGKILL');
    await waitFor('the radio paused by backpressure', () => agent!.session.isPaused, 20_000);
    expect(agent.sink.backlog).toBeGreaterThanOrEqual(20);
    expect(agent.sink.backlog).toBeLessThan(2_000); // bounded: the rest waits in the radio, not in our memory
    await leaf.restart();
    await waitFor('reading resumed', () => !agent!.session.isPaused, 30_000);
    await waitFor('more packets after resuming', () => sim.sent.count > 300, 30_000);
    sim.pause();
    const got = await everythingArrived(stack, sim, 30_000);
    expect(got.keys).toEqual(sim.sent.ids);
    expect(got.count).toBe(sim.sent.count);
    expect(agent.counters.radioPauses).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
