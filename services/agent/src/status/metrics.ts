import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RunningAgent } from '../agent.js';
import type { AgentCounters } from './counters.js';

/**
 * The agent's Prometheus metrics. Most are read from the running agent when scraped (its counters, radio session,
 * publisher and last status), so the hot path keeps only the plain counts it already had; the publish latency is a
 * histogram fed by the sink's acks.
 */
export function registerAgentMetrics(registry: Registry, agent: RunningAgent): void {
  const registers = [registry];
  // Monotonic counts kept by the agent, exported as counters: each scrape adds what grew since the last one.
  const fromCount = (name: string, help: string, read: () => number) => {
    let last = 0;
    new Counter({
      name,
      help,
      registers,
      collect() {
        const now = read();
        if (now > last) this.inc(now - last);
        last = Math.max(last, now);
      },
    });
  };
  const counter = (key: keyof AgentCounters) => () => agent.counters[key];
  fromCount('mmm_agent_frames_read_total', 'FromRadio frames read from the radio', counter('framesRead'));
  fromCount(
    'mmm_agent_decode_errors_total',
    'Frames that did not parse and items that could not be handled',
    counter('decodeErrors'),
  );
  fromCount(
    'mmm_agent_radio_pauses_total',
    'Times a full publish backlog paused reading the radio',
    counter('radioPauses'),
  );
  fromCount(
    'mmm_agent_radio_reconnects_total',
    'Reconnects of the radio link since start',
    () => agent.session.reconnects,
  );
  fromCount('mmm_agent_publish_failures_total', 'Publishes that failed for good', () => agent.sink.failed);

  const byPort = new Map<string, number>();
  new Counter({
    name: 'mmm_agent_receptions_total',
    help: 'Receptions published, by port',
    labelNames: ['port'],
    registers,
    collect() {
      for (const [port, n] of agent.receptionsByPort) {
        const last = byPort.get(port) ?? 0;
        if (n > last) this.inc({ port }, n - last);
        byPort.set(port, n);
      }
    },
  });

  new Gauge({
    name: 'mmm_agent_radio_connected',
    help: '1 while the radio link is connected',
    registers,
    collect() {
      this.set(agent.session.state === 'connected' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'mmm_agent_publish_backlog',
    help: 'Events handed to the publisher and not yet acknowledged by the leaf',
    registers,
    collect() {
      this.set(agent.sink.backlog);
    },
  });
  new Gauge({
    name: 'mmm_agent_site_stream_messages',
    help: 'Messages the site stream holds (at the last status event)',
    registers,
    collect() {
      this.set(agent.lastBuffer().stream.messages);
    },
  });
  new Gauge({
    name: 'mmm_agent_hub_link_up',
    help: "1 when the hub answered through the leaf's link at the last status event, 0 when it did not",
    registers,
    collect() {
      const hub = agent.lastBuffer().hub;
      if (hub) this.set(hub.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'mmm_agent_hub_backlog_messages',
    help: "Site-stream messages the hub's sourcing has still to take (at the last status event)",
    registers,
    collect() {
      const backlog = agent.lastBuffer().hub?.backlog;
      if (backlog !== undefined) this.set(backlog);
    },
  });

  const latency = new Histogram({
    name: 'mmm_agent_publish_ack_seconds',
    help: "Time from handing an event to the publisher to the leaf's JetStream ack",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  agent.sink.onAcked = (seconds) => latency.observe(seconds);
}
