import { type CommandReply, commandSubjects, parseCommandReply } from '@mmm/schemas';
import { type Simulator, startSimulator } from '@mmm/simulator';
import { waitFor } from '@mmm/testkit';
import type { NatsConnection } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningAgent, startAgent } from '../agent.js';
import { agentIni, quietLog, type Stack, settingsFrom, startStack } from '../testing/test-stack.js';
import { TEXT_BURST } from './text.js';

let stack: Stack | undefined;
let sim: Simulator | undefined;
let agent: RunningAgent | undefined;

afterEach(async () => {
  await agent?.stop();
  await sim?.stop();
  await stack?.dispose();
  agent = sim = stack = undefined;
});

const SUBJECT = commandSubjects.text('site1', 'agent1');

/** A request from the hub, as the alerts service sends it: it crosses the leafnode link to the agent and back. */
async function ask(nc: NatsConnection, body: unknown): Promise<CommandReply> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const m = await nc.request(SUBJECT, raw, { timeout: 5000 });
  const r = parseCommandReply(m.string());
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

async function started(): Promise<{ nc: NatsConnection; sim: Simulator }> {
  stack = await startStack();
  sim = await startSimulator({ seed: 7, nodes: 5, rate: 0 });
  agent = await startAgent(settingsFrom(agentIni({ leafUrl: stack.leafUrl, simPort: sim.port })), { log: quietLog() });
  const nc = stack.hubNc;
  // Ready once the radio is configured and the subscription's interest reached the hub.
  await waitFor(
    'the agent answers',
    () =>
      ask(nc, { key: 'warm-up', text: 'hello' }).then(
        (r) => r.ok,
        () => false,
      ),
    20_000,
    250,
  );
  return { nc, sim };
}

describe('text commands', () => {
  it('sends a text to the radio once per key, and answers bad bodies with an error while it keeps working', async () => {
    const { nc, sim } = await started();
    const to = sim.nodes[1]!;
    const id = `!${to.num.toString(16).padStart(8, '0')}`;
    expect(await ask(nc, { key: 'k1', text: 'node silent: Gate 😀', to: id, channel: 1 })).toEqual({ ok: true });
    expect(await ask(nc, { key: 'k1', text: 'node silent: Gate 😀', to: id, channel: 1 })).toEqual({
      ok: true,
      duplicate: true,
    });
    for (const bad of [
      '{',
      '{"key":"x","text":"hi","to":"gate"}',
      '{"text":"no key"}',
      JSON.stringify({ key: 'y', text: 'é'.repeat(101) }),
    ]) {
      const r = await ask(nc, bad);
      expect(r.ok).toBe(false);
    }
    expect(await ask(nc, { key: 'k2', text: 'still here' })).toEqual({ ok: true });
    await waitFor('both texts at the radio', () => sim.received.length >= 3, 5000);
    expect(sim.received.map((t) => [t.text, t.to, t.channel])).toEqual([
      ['hello', 0xffffffff, 0],
      ['node silent: Gate 😀', to.num, 1],
      ['still here', 0xffffffff, 0],
    ]);
  }, 60_000);

  it('answers an error while the radio is away (so the sender retries), and refuses a flood', async () => {
    const { nc, sim } = await started();
    sim.unplug();
    await waitFor(
      'the radio gone',
      () => ask(nc, { key: 'u', text: 'x' }).then((r) => !r.ok && /radio/.test(r.error)),
      10_000,
      200,
    );
    sim.plugIn();
    await waitFor(
      'sent once the radio is back',
      () => ask(nc, { key: 'u', text: 'back' }).then((r) => r.ok),
      20_000,
      250,
    );
    expect(sim.received.filter((t) => t.text === 'back')).toHaveLength(1);
    // warm-up and "back" used two of the burst.
    const replies: CommandReply[] = [];
    for (let i = 0; i < TEXT_BURST; i++) replies.push(await ask(nc, { key: `f${i}`, text: `flood ${i}` }));
    expect(replies.filter((r) => r.ok)).toHaveLength(TEXT_BURST - 2);
    expect(replies.at(-1)).toMatchObject({ ok: false, error: expect.stringMatching(/rate limited/) });
    expect(sim.received).toHaveLength(TEXT_BURST);
  }, 60_000);
});
