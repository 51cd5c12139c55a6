import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RULES_INI } from '@mmm/alerts';
import { type HubNodes, hubNodePorts, type UpOptions } from './options.js';

/** Where everything of one `mmm up` lives under the data directory. */
export interface Layout {
  root: string;
  state: string;
  lock: string;
  configDir: string;
  logDir: string;
  /** One entry per hub node: its server name, config file and JetStream store. */
  hubs: { name: string; config: string; store: string }[];
  config: {
    leaf: string;
    agent: string;
    ingest: string;
    routeAnalysis: string;
    api: string;
    mqtt: string;
    alerts: string;
  };
  natsStore: { leaf: string };
  historyDb: string;
  apiDb: string;
}

/** Server names of the hub nodes: one hub keeps the name it always had; a cluster's nodes are hub-a, hub-b, hub-c. */
export function hubNames(hubNodes: HubNodes): string[] {
  return hubNodes === 1 ? ['hub'] : ['hub-a', 'hub-b', 'hub-c'];
}

export function layout(dataDir: string, hubNodes: HubNodes = 1): Layout {
  const c = join(dataDir, 'config');
  return {
    hubs: hubNames(hubNodes).map((name) => ({
      name,
      config: join(c, `${name}-nats.conf`),
      store: join(dataDir, 'nats', name),
    })),
    root: dataDir,
    state: join(dataDir, 'up.json'),
    lock: join(dataDir, 'up.pid'),
    configDir: c,
    logDir: join(dataDir, 'logs'),
    config: {
      leaf: join(c, 'leaf-nats.conf'),
      agent: join(c, 'agent.ini'),
      ingest: join(c, 'ingest.ini'),
      routeAnalysis: join(c, 'route-analysis.ini'),
      api: join(c, 'api.ini'),
      mqtt: join(c, 'mqtt.ini'),
      alerts: join(c, 'alerts.ini'),
    },
    natsStore: { leaf: join(dataDir, 'nats', 'leaf') },
    historyDb: join(dataDir, 'history.db'),
    apiDb: join(dataDir, 'api.db'),
  };
}

/** What the generated configs depend on; recorded so a restart with other flags is noticed instead of ignored. */
export type Setup = Pick<
  UpOptions,
  'site' | 'agentId' | 'hubNodes' | 'ports' | 'radio' | 'clickhouse' | 'mqtt' | 'alertsWebhooks'
>;

export function setupOf(o: UpOptions): Setup {
  return {
    site: o.site,
    agentId: o.agentId,
    hubNodes: o.hubNodes,
    ports: o.ports,
    radio: o.radio,
    clickhouse: o.clickhouse,
    ...(o.mqtt ? { mqtt: o.mqtt } : {}),
    ...(o.alertsWebhooks?.length ? { alertsWebhooks: o.alertsWebhooks } : {}),
  };
}

/** Every hub node's client URL, comma-separated as the services' [nats] url takes them. */
export function hubUrls(s: Setup): string {
  return hubNodePorts(s)
    .map((n) => `nats://127.0.0.1:${n.nats}`)
    .join(',');
}

/** sync_interval (fsync per write) exists from nats-server 2.10; Debian 12's 2.9.10 refuses the key. */
export function syncLine(natsVersion: [number, number]): string {
  const [major, minor] = natsVersion;
  return major > 2 || (major === 2 && minor >= 10)
    ? 'sync_interval: always'
    : '# sync_interval: always  (nats-server >= 2.10)';
}

export function hubConf(s: Setup, l: Layout, sync: string, node = 0): string {
  const hub = l.hubs[node]!;
  const ports = hubNodePorts(s);
  const me = ports[node]!;
  const cluster =
    s.hubNodes > 1
      ? `
# One of ${s.hubNodes} nodes of the JetStream cluster "hub" on this machine (a trial: real clusters put each node on
# its own machine, see docs/operations.md). Streams and KV buckets have ${s.hubNodes} replicas; two nodes are a quorum.
cluster {
  name: hub
  listen: 127.0.0.1:${me.cluster}
  routes: [
${ports.map((p) => `    nats-route://127.0.0.1:${p.cluster}`).join('\n')}
  ]
}
`
      : '';
  return `# Hub nats-server ${hub.name} of \`mmm up\` (written once; edit freely, it is reused).
server_name: ${hub.name}
listen: 127.0.0.1:${me.nats}
http: 127.0.0.1:${me.monitor}
jetstream {
  store_dir: ${JSON.stringify(hub.store)}
  domain: hub
  ${sync}
}
leafnodes {
  listen: 127.0.0.1:${me.leafnode}
}
${cluster}`;
}

export function leafConf(s: Setup, l: Layout, sync: string): string {
  return `# Site leaf nats-server of \`mmm up\`: JetStream domain ${s.site}, the site's durable buffer.
server_name: leaf-${s.site}
listen: 127.0.0.1:${s.ports.leaf}
http: 127.0.0.1:${s.ports.monitor + 1}
jetstream {
  store_dir: ${JSON.stringify(l.natsStore.leaf)}
  domain: ${s.site}
  ${sync}
}
leafnodes {
  reconnect: 1
  remotes: [
    # Every hub node: the link fails over by itself when one is down.
    { urls: [${hubNodePorts(s)
      .map((n) => `"nats-leaf://127.0.0.1:${n.leafnode}"`)
      .join(', ')}] }
  ]
}
${
  s.mqtt?.listener
    ? `
# --mqtt: radios' MQTT modules publish here (topic msh/... becomes subject msh....); mmm mqtt reads it back with a
# persistent session, which this server keeps in JetStream while the bridge is away. Needs server_name and JetStream.
mqtt {
  listen: 127.0.0.1:${s.ports.mqtt}
}
`
    : ''
}`;
}

/** `mmm mqtt` of `mmm up --mqtt` / `--mqtt-broker`: the leaf's listener and/or an existing broker, into the site. */
export function mqttIni(s: Setup): string {
  const m = s.mqtt;
  const leaf = m?.listener
    ? `
[broker_leaf]
# The leaf's own MQTT listener (--mqtt): point radios' MQTT module at 127.0.0.1:${s.ports.mqtt}, root topic msh/...
url = mqtt://127.0.0.1:${s.ports.mqtt}
topics = "msh/#"
`
    : '';
  const upstream = m?.broker
    ? `
[broker_upstream]
url = ${m.broker}
# Quoted: # starts a comment in INI.
topics = ${JSON.stringify(m.topic)}
`
    : '';
  return `# MQTT bridge of \`mmm up\` (written once; edit freely, it is reused). Keys: mmm mqtt --help, docs/mqtt.md.
# Channel keys come from agent.ini ([meshtastic] channel_keys) through --keys-from; more can be added here.
[nats]
url = nats://127.0.0.1:${s.ports.leaf}
site = ${s.site}

[status]
ops_port = ${s.ports.opsBase + 4}
${leaf}${upstream}`;
}

export function agentIni(s: Setup, simPort: number): string {
  const radio = s.radio ?? { kind: 'tcp' as const, host: '127.0.0.1', port: simPort };
  const meshtastic =
    radio.kind === 'tcp'
      ? `connection_type = tcp\ntcp_host = ${radio.host}\ntcp_port = ${radio.port}`
      : `connection_type = serial\ndevice_path = ${radio.path}`;
  return `# Agent of \`mmm up\` (written once; edit freely, it is reused). Keys: mmm agent --help, docs/agent.md.
[agent]
id = ${s.agentId}
location_name = ${s.radio ? 'My radio' : 'Simulated mesh'}

[meshtastic]
${meshtastic}

[nats]
url = nats://127.0.0.1:${s.ports.leaf}
site = ${s.site}

[status]
ops_port = ${s.ports.opsBase}
`;
}

export function ingestIni(s: Setup, l: Layout): string {
  return `# Ingest of \`mmm up\` (written once; edit freely, it is reused). Keys: mmm ingest --help, docs/ingest.md.
[nats]
url = ${hubUrls(s)}

[ingest]
# mmm up provisions the hub streams (MESH sourcing the site), durables and KV buckets before ingest starts.
ensure_streams = false
ops_port = ${s.ports.opsBase + 1}

${s.clickhouse ? `[clickhouse]\nurl = ${s.clickhouse}\n` : `[sqlite]\npath = ${l.historyDb}\n`}`;
}

export function routeAnalysisIni(s: Setup): string {
  return `# Route analysis of \`mmm up\` (written once; edit freely, it is reused). Keys: mmm route-analysis --help.
[nats]
url = ${hubUrls(s)}
${s.hubNodes > 1 ? `\n[route_analysis]\n# Its KV buckets (snapshot, checkpoint, writer lease) on every hub node.\nreplicas = ${s.hubNodes}\n` : ''}
[ops]
port = ${s.ports.opsBase + 2}
`;
}

export function alertsIni(s: Setup): string {
  return `# Alerts of \`mmm up\` (written once; edit freely, it is reused). Keys: mmm alerts --help, docs/alerts.md.
[nats]
url = ${hubUrls(s)}
${s.hubNodes > 1 ? `\n[alerts]\n# Its KV buckets and MESH_ALERTS on every hub node.\nreplicas = ${s.hubNodes}\n` : ''}
[ops]
port = ${s.ports.opsBase + 3}

# Default rules: a node not heard for 2 h, a battery below 20 % for 10 min, an agent not reporting for 10 min.
# Add [webhook_<name>] sections to be told (url = ..., format = generic | ntfy | discord | slack).
${(s.alertsWebhooks ?? []).map((url, i) => `[webhook_up${i + 1}]\nurl = ${url}\n`).join('\n')}
${DEFAULT_RULES_INI}`;
}

export function apiIni(s: Setup, l: Layout): string {
  return `# API of \`mmm up\` (written once; edit freely, it is reused). Keys: mmm api --help, docs/api.md.
[server]
host = 127.0.0.1
port = ${s.ports.api}

[auth]
# A trial stack on 127.0.0.1: the web app acknowledges and silences alerts without a token. Set token (the default)
# with a tokens_file line from mmm api --create-token read,alerts-write before listening on another address.
alerts_write = open

[nats]
url = ${hubUrls(s)}

[database]
path = ${l.apiDb}

${s.clickhouse ? `[clickhouse]\nurl = ${s.clickhouse}\n` : `[history]\nsqlite_path = ${l.historyDb}\n`}`;
}

export class SetupChangedError extends Error {
  override readonly name = 'SetupChangedError';
}

/**
 * Writes the configs on first start and reuses them afterwards (the operator may have edited them). A restart whose
 * flags would produce different configs fails with a message naming the difference, unless `reconfigure` is set.
 * Returns the files written.
 */
export function prepare(o: UpOptions, natsVersion: [number, number]): { layout: Layout; written: string[] } {
  const l = layout(o.dataDir, o.hubNodes);
  for (const d of [l.root, l.configDir, l.logDir, ...l.hubs.map((h) => h.store), l.natsStore.leaf])
    mkdirSync(d, { recursive: true });
  const setup = setupOf(o);
  if (existsSync(l.state) && !o.reconfigure) {
    const before = { hubNodes: 1, ...JSON.parse(readFileSync(l.state, 'utf8')) } as Setup;
    const diff = describeDiff(before, setup);
    if (diff) {
      throw new SetupChangedError(
        `${o.dataDir} was set up with other options (${diff}). Run again with the same options, or add --reconfigure to rewrite its configuration files.`,
      );
    }
  }
  const sync = syncLine(natsVersion);
  const files: [string, string][] = [
    ...l.hubs.map((h, i): [string, string] => [h.config, hubConf(setup, l, sync, i)]),
    [l.config.leaf, leafConf(setup, l, sync)],
    [l.config.agent, agentIni(setup, o.ports.sim)],
    [l.config.ingest, ingestIni(setup, l)],
    [l.config.routeAnalysis, routeAnalysisIni(setup)],
    [l.config.api, apiIni(setup, l)],
    ...(setup.mqtt ? [[l.config.mqtt, mqttIni(setup)] as [string, string]] : []),
    [l.config.alerts, alertsIni(setup)],
  ];
  const written: string[] = [];
  for (const [file, text] of files) {
    if (existsSync(file) && !o.reconfigure) continue;
    writeFileSync(file, text, { mode: 0o640 });
    written.push(file);
  }
  writeFileSync(l.state, `${JSON.stringify(setup, null, 2)}\n`);
  return { layout: l, written };
}

function describeDiff(a: Setup, b: Setup): string | undefined {
  const flat = (s: Setup): Record<string, string> => ({
    '--site': s.site,
    '--agent-id': s.agentId,
    '--radio': s.radio
      ? s.radio.kind === 'tcp'
        ? `tcp:${s.radio.host}:${s.radio.port}`
        : `serial:${s.radio.path}`
      : '(simulator)',
    '--clickhouse': s.clickhouse ?? '(SQLite)',
    '--hub-nodes': String(s.hubNodes),
    '--mqtt': s.mqtt?.listener ? 'on' : '(off)',
    '--mqtt-broker': s.mqtt?.broker ? `${s.mqtt.broker} ${s.mqtt.topic}` : '(none)',
    ...Object.fromEntries(
      Object.entries(s.ports)
        // The cluster port means nothing to one hub node (and data directories from before it have none).
        .filter(([k]) => (k !== 'cluster' || s.hubNodes > 1) && (k !== 'mqtt' || s.mqtt?.listener))
        .map(([k, v]) => [`port ${k}`, String(v)]),
    ),
  });
  const fa = flat(a);
  const fb = flat(b);
  const changed = Object.keys(fb)
    .filter((k) => fa[k] !== fb[k])
    .map((k) => `${k}: ${fa[k]} -> ${fb[k]}`);
  return changed.length ? changed.join(', ') : undefined;
}
