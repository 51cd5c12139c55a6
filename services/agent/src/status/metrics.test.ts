import { createRegistry, startOpsServer } from '@mmm/common';
import { startSimulator } from '@mmm/simulator';
import { waitFor } from '@mmm/testkit';
import { describe, expect, it } from 'vitest';
import { startAgent } from '../agent.js';
import { agentIni, quietLog, settingsFrom, startStack } from '../testing/test-stack.js';
import { registerAgentMetrics } from './metrics.js';

/** `name{labels} value` lines of a Prometheus text page, as a map. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe('agent metrics', () => {
  it('exports receptions by port, radio and hub link state, backlogs and publish latency from a running agent', async () => {
    const stack = await startStack();
    const sim = await startSimulator({ seed: 5, nodes: 8, rate: 30 });
    const agent = await startAgent(
      settingsFrom(agentIni({ leafUrl: stack.leafUrl, simPort: sim.port, extra: '[status]\ninterval = 1\n' })),
      { log: quietLog() },
    );
    const registry = createRegistry('agent');
    registerAgentMetrics(registry, agent);
    const ops = await startOpsServer({ port: 0, registry, ready: () => true });
    const scrape = async () => samples(await (await fetch(`http://127.0.0.1:${ops.port}/metrics`)).text());
    try {
      await waitFor('receptions and a linked hub', async () => {
        const m = await scrape();
        return (m.get('mmm_agent_hub_link_up{service="agent"}') ?? 0) === 1 && agent.counters.receptions > 50;
      });
      sim.pause();
      await waitFor('the backlog acked', () => agent.sink.backlog === 0);
      await agent.publishStatus();
      await waitFor('the status acked', () => agent.sink.backlog === 0);
      const m = await scrape();
      // Receptions by port add up to the agent's own count and to what the simulator sent. Per port they match it,
      // but for the private channel's packets, which the agent decrypts with the key the radio gave it.
      const byPort = [...m].filter(([k]) => k.startsWith('mmm_agent_receptions_total{'));
      expect(byPort.reduce((a, [, v]) => a + v, 0)).toBe(agent.counters.receptions);
      expect(agent.counters.receptions).toBe(sim.sent.count);
      for (const [port, n] of Object.entries(sim.sent.byPort)) {
        if (port === 'encrypted' || port === 'text') continue;
        expect(m.get(`mmm_agent_receptions_total{port="${port}",service="agent"}`), port).toBe(n);
      }
      expect(m.get('mmm_agent_receptions_total{port="text",service="agent"}')).toBe(
        (sim.sent.byPort.text ?? 0) + (sim.sent.byPort.encrypted ?? 0),
      );
      expect(m.get('mmm_agent_radio_connected{service="agent"}')).toBe(1);
      expect(m.get('mmm_agent_publish_backlog{service="agent"}')).toBe(0);
      expect(m.get('mmm_agent_frames_read_total{service="agent"}')).toBe(agent.counters.framesRead);
      // The site stream holds every reception (and the status and node-DB events besides).
      expect(m.get('mmm_agent_site_stream_messages{service="agent"}')).toBeGreaterThanOrEqual(
        agent.counters.receptions,
      );
      expect(m.get('mmm_agent_hub_backlog_messages{service="agent"}')).toBeGreaterThanOrEqual(0);
      // Every published event's ack was timed (status and node-DB events included).
      expect(m.get('mmm_agent_publish_ack_seconds_count{service="agent"}')).toBe(agent.sink.published);

      // The hub gone: the next status says so, and so does the gauge.
      await stack.hubAndLeaves.hub.kill('SIGKILL');
      await waitFor(
        'the hub link down',
        async () => (await scrape()).get('mmm_agent_hub_link_up{service="agent"}') === 0,
      );
      expect((await scrape()).has('mmm_agent_hub_backlog_messages{service="agent"}')).toBe(true);
    } finally {
      await ops.close();
      await agent.stop();
      await sim.stop();
      await stack.dispose();
    }
  }, 90_000);
});
