// Whole path of a mesh text: a rule fires in the alerts service on the hub, the command crosses the leafnode link,
// the agent sends it through its radio, the simulator's radio receives it.
import { agentConfigSpec, provisionHub, type RunningAgent, resolveSettings, startAgent } from '@mmm/agent';
import { parseAlertsConfig, type RunningAlerts, startAlerts } from '@mmm/alerts';
import { createLogger, parseConfig } from '@mmm/common';
import { TEXT_MAX_BYTES } from '@mmm/schemas';
import { type Simulator, startSimulator } from '@mmm/simulator';
import { type HubAndLeaves, startHubAndLeaves, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';

const log = () => createLogger({ name: 'mesh-text-test', level: process.env.MMM_TEST_LOG ?? 'silent' });

let mesh: HubAndLeaves | undefined;
let hubNc: NatsConnection | undefined;
/** The radio whose agent hears the mesh (and so fires the rule), and the radio whose agent sends the texts. */
let heard: Simulator | undefined;
let hearer: RunningAgent | undefined;
let sim: Simulator | undefined;
let agent: RunningAgent | undefined;
let alerts: RunningAlerts | undefined;

afterEach(async () => {
  await alerts?.stop();
  await agent?.stop();
  await hearer?.stop();
  await sim?.stop();
  await heard?.stop();
  await hubNc?.close();
  await mesh?.dispose();
  alerts = agent = hearer = sim = heard = hubNc = mesh = undefined;
});

function agentSettings(id: string, leafUrl: string, simPort: number) {
  const ini = `[agent]
id = ${id}
location_name = Bench
location_lat = 52.5
location_lon = 13.4
[meshtastic]
connection_type = tcp
tcp_host = 127.0.0.1:${simPort}
reconnect_max = 2
[nats]
url = ${leafUrl}
site = site1
[route_discovery]
enabled = false
`;
  return resolveSettings(parseConfig(agentConfigSpec, ini, 'agent.ini', { env: {} }));
}

let alertsIni = '';

async function startAlertsService(): Promise<void> {
  alerts = await startAlerts(parseAlertsConfig(alertsIni, 'alerts.ini'), { log: log() });
  await waitFor('alerts ready', () => alerts!.ready(), 30_000);
}

async function start(minIntervalS: number): Promise<{ heard: Simulator; sim: Simulator; leafUrl: string }> {
  mesh = await startHubAndLeaves(['site1']);
  hubNc = await connect({ servers: mesh.hub.url });
  await provisionHub(await hubNc.jetstreamManager(), { sites: ['site1'] });
  heard = await startSimulator({ seed: 5, nodes: 6, rate: 0 });
  sim = await startSimulator({ seed: 4, nodes: 6, rate: 0 });
  const leafUrl = mesh.leaves.site1!.url;
  hearer = await startAgent(agentSettings('agent1', leafUrl, heard.port), { log: log() });
  agent = await startAgent(agentSettings('agent2', leafUrl, sim.port), { log: log() });
  alertsIni = `[nats]
url = ${mesh.hub.url}
[alerts]
flush_interval = 50
sweep_interval = 200
checkpoint_interval = 300
[ops]
enabled = false
[rule_texts]
kind = text_match
pattern = .
# An alert per text: each resolves after 5 s (unnotified: text_match ends on a timer).
duration = 5
[mesh_ops]
site = site1
agent = agent2
rules = texts
min_interval = ${minIntervalS}
timeout = 1000
backoff_max = 500
`;
  await startAlertsService();
  await waitFor(
    'radios configured',
    () => agent!.session.state === 'connected' && hearer!.session.state === 'connected',
    20_000,
  );
  return { heard, sim, leafUrl };
}

/** One plain text from a node of the mesh (the simulator sends some on its encrypted channel, which no rule reads). */
function injectText(s: Simulator): void {
  for (let i = 0; i < 50; i++) if (s.inject('text')?.port === 'text') return;
  throw new Error('the simulator sent no plain text');
}

async function counted(result: string): Promise<number> {
  const line = (await alerts!.metrics.registry.metrics())
    .split('\n')
    .find(
      (l) =>
        l.startsWith('mmm_alerts_notifications_total{') &&
        l.includes('target="mesh:ops"') &&
        l.includes(`result="${result}"`),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('mesh text target', () => {
  it('sends a firing alert to the radio once, and drops a second within min_interval (counted)', async () => {
    const { heard, sim } = await start(300);
    injectText(heard);
    await waitFor('the text at the radio', () => sim.received.length === 1, 30_000);
    const t = sim.received[0]!;
    expect(t.text).toMatch(/^ALERT texts: /);
    expect(t.to).toBe(0xffffffff);
    expect(Buffer.byteLength(t.text, 'utf8')).toBeLessThanOrEqual(TEXT_MAX_BYTES);
    await waitFor('delivery counted', async () => (await counted('sent')) === 1, 10_000);
    await new Promise((r) => setTimeout(r, 6000)); // the first alert resolved: the next text is a new one
    injectText(heard);
    await waitFor('the second one dropped', async () => (await counted('rate_limited')) === 1, 30_000);
    // A restart does not open the gate: the time of the last text is in the state bucket.
    await alerts!.stop();
    await startAlertsService();
    await new Promise((r) => setTimeout(r, 6000));
    injectText(heard);
    await waitFor('the third one dropped after a restart', async () => (await counted('rate_limited')) === 1, 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(sim.received).toHaveLength(1);
  }, 120_000);

  it('keeps a text while the agent is down and sends it once when the agent is back', async () => {
    const { heard, sim, leafUrl } = await start(0);
    await agent!.stop();
    agent = undefined;
    injectText(heard);
    await waitFor('a failed attempt', async () => (await counted('failed')) >= 2, 30_000);
    expect(sim.received).toHaveLength(0);
    agent = await startAgent(agentSettings('agent2', leafUrl, sim.port), { log: log() });
    await waitFor('the text at the radio', () => sim.received.length === 1, 30_000);
    await waitFor('delivery counted', async () => (await counted('sent')) === 1, 10_000);
    await new Promise((r) => setTimeout(r, 2000));
    expect(sim.received).toHaveLength(1);
    expect(sim.received[0]!.text).toMatch(/^ALERT texts: /);
  }, 120_000);
});
