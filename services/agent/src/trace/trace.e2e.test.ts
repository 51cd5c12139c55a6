import { createConnection, createServer, type Server } from 'node:net';
import { Deframer, fromBinary, Mesh, Portnums } from '@mmm/meshtastic';
import { subjects, type TraceOutcome, validateEvent } from '@mmm/schemas';
import { type Simulator, startSimulator } from '@mmm/simulator';
import { waitFor } from '@mmm/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningAgent, startAgent } from '../agent.js';
import { agentIni, quietLog, readStream, type Stack, settingsFrom, startStack } from '../testing/test-stack.js';

/** Sits between agent and simulator and timestamps every traceroute request as it reaches the radio's socket. */
async function radioTap(
  upstreamPort: number,
): Promise<{ port: number; requests: { at: number; to: number; id: number }[]; close(): Promise<void> }> {
  const requests: { at: number; to: number; id: number }[] = [];
  const server: Server = createServer((client) => {
    const up = createConnection({ host: '127.0.0.1', port: upstreamPort });
    const d = new Deframer();
    client.on('data', (chunk) => {
      for (const f of d.push(chunk)) {
        if (f.type !== 'packet') continue;
        const msg = fromBinary(Mesh.ToRadioSchema, f.payload);
        if (msg.payloadVariant.case !== 'packet') continue;
        const p = msg.payloadVariant.value;
        if (p.payloadVariant.case === 'decoded' && p.payloadVariant.value.portnum === Portnums.PortNum.TRACEROUTE_APP) {
          requests.push({ at: Date.now(), to: p.to, id: p.id });
        }
      }
      up.write(chunk);
    });
    up.pipe(client);
    const end = () => {
      client.destroy();
      up.destroy();
    };
    client.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { port, requests, close: () => new Promise((r) => server.close(() => r())) };
}

describe('traceroutes against the simulator', () => {
  let stack: Stack | undefined;
  let sim: Simulator | undefined;
  let agent: RunningAgent | undefined;
  let tap: Awaited<ReturnType<typeof radioTap>> | undefined;
  afterEach(async () => {
    await agent?.stop();
    await tap?.close();
    await sim?.stop();
    await stack?.dispose();
  });

  async function outcomes(): Promise<TraceOutcome[]> {
    return (await readStream(stack!.hubNc, 'MESH', subjects.trace('site1', 'agent1'))).map(
      (e) => e.data as unknown as TraceOutcome,
    );
  }

  it('keeps the gap between requests, and records both paths with SNR per hop and correct endpoints', async () => {
    const GAP = 2_000;
    stack = await startStack();
    sim = await startSimulator({ seed: 41, nodes: 6, rate: 10, traceDelayMs: [100, 300], traceRateLimitMs: GAP - 100 });
    tap = await radioTap(sim.port);
    const extra = 'timeout = 5\nmax_per_cycle = 10\ninterval_minutes = 1\nhop_limit = 5\n';
    const ini = agentIni({ leafUrl: stack.leafUrl, simPort: tap.port }).replace(
      '[route_discovery]\nenabled = false\n',
      `[route_discovery]\nenabled = true\n${extra}`,
    );
    agent = await startAgent(settingsFrom(ini, { traceGapMs: GAP }), { log: quietLog() });
    const got = await waitFor(
      '4 successful traceroutes',
      async () => {
        const o = (await outcomes()).filter((x) => x.outcome === 'success');
        return o.length >= 4 ? o : undefined;
      },
      40_000,
      250,
    );
    const gaps = tap.requests.slice(1).map((r, i) => r.at - tap!.requests[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(GAP - 50);
    const me = sim.myNodeNum;
    for (const o of got) {
      expect(validateEvent(o)).toMatchObject({ ok: true });
      expect(o.from).toBe(me);
      expect(o.hopLimit).toBe(5);
      const rd = sim.expectedTraceroute(o.to);
      expect(o.towards).toEqual({ route: [me, ...rd.route, o.to], snr: rd.snrTowards.map((s: number) => s / 4) });
      expect(o.back).toEqual({ route: [o.to, ...rd.routeBack, me], snr: rd.snrBack.map((s: number) => s / 4) });
      expect(tap.requests.some((r) => r.id === o.requestId && r.to === o.to)).toBe(true);
    }
  }, 60_000);

  it('keeps its route cache across a restart: routes found before it are not traced again', async () => {
    const GAP = 500;
    stack = await startStack();
    sim = await startSimulator({ seed: 43, nodes: 6, rate: 10, traceDelayMs: [50, 150], traceRateLimitMs: GAP - 100 });
    tap = await radioTap(sim.port);
    const ini = agentIni({ leafUrl: stack.leafUrl, simPort: tap.port }).replace(
      '[route_discovery]\nenabled = false\n',
      '[route_discovery]\nenabled = true\ntimeout = 5\nmax_per_cycle = 20\ninterval_minutes = 1\n',
    );
    agent = await startAgent(settingsFrom(ini, { traceGapMs: GAP }), { log: quietLog() });
    const routed = await waitFor(
      'routes to 4 nodes',
      async () => {
        const to = new Set((await outcomes()).filter((x) => x.outcome === 'success').map((x) => x.to));
        return to.size >= 4 ? to : undefined;
      },
      30_000,
      250,
    );
    await agent.stop();
    const before = tap.requests.length;
    agent = await startAgent(settingsFrom(ini, { traceGapMs: GAP }), { log: quietLog() });
    // Every node is heard again at once (the node DB); with an empty cache the sweep would ask for them right away.
    await new Promise((r) => setTimeout(r, 4_000));
    const after = tap.requests.slice(before).map((r) => r.to);
    expect(after.filter((to) => routed.has(to))).toEqual([]);
    // The restarted agent does trace: nodes it has no route for are still asked for (when there are any).
    const unrouted = sim.nodes.map((n) => n.num).filter((n) => n !== sim!.myNodeNum && !routed.has(n));
    if (unrouted.length > 0) expect(after.length).toBeGreaterThan(0);
  }, 60_000);

  it('records a timeout when no reply comes (the radio dropped the request)', async () => {
    stack = await startStack();
    // The simulated firmware accepts one traceroute per minute; the agent (test override) asks every second.
    sim = await startSimulator({ seed: 42, nodes: 5, rate: 10, traceDelayMs: [100, 200], traceRateLimitMs: 60_000 });
    const ini = agentIni({ leafUrl: stack.leafUrl, simPort: sim.port }).replace(
      '[route_discovery]\nenabled = false\n',
      '[route_discovery]\nenabled = true\ntimeout = 5\n',
    );
    agent = await startAgent(settingsFrom(ini, { traceGapMs: 1_000 }), { log: quietLog() });
    const got = await waitFor(
      'a timeout outcome',
      async () => {
        const o = (await outcomes()).filter((x) => x.outcome === 'timeout');
        return o.length ? o : undefined;
      },
      30_000,
      250,
    );
    expect(validateEvent(got[0])).toMatchObject({ ok: true });
    expect(got[0]!.finishedAt - got[0]!.startedAt).toBeGreaterThanOrEqual(5_000);
    expect(got[0]!.towards).toBeUndefined();
  }, 45_000);
});
