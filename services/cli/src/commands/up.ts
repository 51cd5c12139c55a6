import { type Command, InvalidArgumentError } from 'commander';
import {
  DEFAULT_PORTS,
  HUB_NODE_PORT_STEP,
  parseCount,
  parseHubNodes,
  parseMqttTopic,
  parseMqttUrl,
  parsePort,
  parseRadio,
  parseToken,
  parseUrl,
  parseWebhookUrl,
  toUpOptions,
} from './up/options.js';

const HELP_AFTER = `
What runs (in this order, each waited for until ready):
  hub-nats        hub nats-server (JetStream domain "hub"); stream MESH sources the site stream
                  (with --hub-nodes 3: hub-a-nats, hub-b-nats, hub-c-nats, one JetStream cluster)
  leaf-nats       the site's leaf nats-server (JetStream domain = --site), linked to the hub as a leafnode
  streams         mmm streams provision: MESH (sourcing the site), MESH_DERIVED, MESH_DLQ, the services' durables
                  and route analysis's KV buckets (one-shot)
  sim             a simulated mesh on --sim-port, unless --radio names a real one
  agent           reads the radio, publishes to the leaf
  ingest          history into SQLite (<data-dir>/history.db), or ClickHouse with --clickhouse
  route-analysis  topology from traceroutes and neighbor info
  api             REST, live WebSocket and the web app on http://127.0.0.1:--port
  mqtt            with --mqtt or --mqtt-broker: the MQTT bridge (mmm mqtt), radios' MQTT uplink as receptions
  alerts          alert rules (node silent 2 h, battery < 20 %, agent not reporting 10 min) on the hub stream

Data and configuration stay in --data-dir across restarts: configs are written on the first run and reused (edit
them freely; --reconfigure rewrites them from the flags). Logs go to <data-dir>/logs/<service>.log.
Ctrl-C or SIGTERM stops the services in reverse order, waits for each, and kills stragglers (twice: at once).
A service that exits on its own is reported with the end of its log and the whole stack stops (exit code 1):
nothing is restarted silently. For unattended operation use the systemd units (docs/operations.md).

A three-node hub on one machine (--hub-nodes 3), to try what a clustered hub does: the nodes are hub-a, hub-b and
hub-c, node i listening on each hub port + ${HUB_NODE_PORT_STEP}*i (client --nats-port, --leafnode-port, --monitor-port,
--cluster-port for the routes between them). Streams and the route-analysis KV buckets get 3 replicas, the leaf lists
all three leafnode URLs and every service all three client URLs. When one hub node dies, mmm up says so (a line on
stderr and the status table again, the node marked DOWN) and the stack carries on: two nodes are a quorum, so
streams keep accepting and serving messages. A second node's loss leaves no quorum and stops the stack.
Real deployments put each node on its own machine (docs/operations.md, "The hub as a cluster").

Examples:
  npm start                                   the same as: mmm up
  mmm up --port 9090 --data-dir /srv/mmm      another port and data directory
  mmm up --radio tcp:192.168.1.50             a real radio over TCP (port 4403 unless given)
  mmm up --radio serial:/dev/ttyUSB0          a real radio on a serial port
  mmm up --clickhouse http://127.0.0.1:8123   history in ClickHouse instead of SQLite
  mmm up --hub-nodes 3                        the hub as a three-node JetStream cluster (R3 streams)
  mmm up --mqtt                               radios' MQTT modules publish straight to the leaf (port 1883)
  mmm up --mqtt-broker mqtt://broker:1883 --mqtt-topic 'msh/EU_868/#'   bridge an existing broker as well
  mmm up --alerts-webhook http://127.0.0.1:9000/hook   alerts POSTed to a webhook (the default rules fire there)

Exit codes: 0 after Ctrl-C/SIGTERM; 1 if something could not start or crashed, or a flag value is invalid;
2 if flags conflict (two equal ports) or differ from the ones the data directory was set up with.`;

export function register(program: Command): void {
  program
    .command('up')
    .description(
      'start the whole stack on one machine (hub and leaf nats-server, simulator or radio, agent, ingest, route-analysis, api + web app)',
    )
    .option('-d, --data-dir <dir>', 'configs, streams, databases and logs (default: ./data)')
    .option('-p, --port <port>', `API and web app port (default: ${DEFAULT_PORTS.api})`, parsePort('--port'))
    .option(
      '--nats-port <port>',
      `hub nats-server client port (default: ${DEFAULT_PORTS.nats})`,
      parsePort('--nats-port'),
    )
    .option(
      '--leaf-port <port>',
      `site leaf nats-server client port (default: ${DEFAULT_PORTS.leaf})`,
      parsePort('--leaf-port'),
    )
    .option(
      '--leafnode-port <port>',
      `hub port for leafnode links (default: ${DEFAULT_PORTS.leafnode})`,
      parsePort('--leafnode-port'),
    )
    .option(
      '--monitor-port <port>',
      `hub monitor port; the leaf's is this + 1 (default: ${DEFAULT_PORTS.monitor})`,
      parsePort('--monitor-port'),
    )
    .option(
      '--hub-nodes <n>',
      'hub nats-servers: 1, or 3 for a JetStream cluster on this machine (default: 1)',
      parseHubNodes,
    )
    .option(
      '--cluster-port <port>',
      `with --hub-nodes 3: route port of the first hub node (default: ${DEFAULT_PORTS.cluster})`,
      parsePort('--cluster-port'),
    )
    .option(
      '--ops-port-base <port>',
      `agent /readyz+/metrics port; ingest +1, route-analysis +2, alerts +3, mqtt +4 (default: ${DEFAULT_PORTS.opsBase})`,
      parsePort('--ops-port-base'),
    )
    .option(
      '--radio <spec>',
      'a real radio instead of the simulator: tcp:HOST[:PORT] or serial:/dev/ttyUSB0',
      parseRadio,
    )
    .option('--sim-port <port>', `simulator TCP port (default: ${DEFAULT_PORTS.sim})`, parsePort('--sim-port'))
    .option('--sim-nodes <n>', "simulated nodes (default: the simulator's)", parseCount('--sim-nodes', 2))
    .option(
      '--sim-rate <packets/s>',
      "simulated packets per second (default: the simulator's)",
      parseCount('--sim-rate', 0),
    )
    .option('--sim-seed <n>', 'simulator seed (same seed, same mesh)', parseCount('--sim-seed', 0))
    .option('--clickhouse <url>', 'store history in ClickHouse at this HTTP URL instead of SQLite', parseUrl)
    .option('--site <id>', 'site id (leaf JetStream domain, subject token) (default: local)', parseToken('--site'))
    .option('--agent-id <id>', 'agent id (default: agent-1)', parseToken('--agent-id'))
    .option(
      '--ready-timeout <s>',
      'seconds each service may take to become ready (default: 120)',
      parseCount('--ready-timeout', 1),
    )
    .option(
      '--stop-timeout <s>',
      'seconds each service may take to stop before it is killed (default: 15)',
      parseCount('--stop-timeout', 1),
    )
    .option(
      '--mqtt',
      `turn on the leaf's MQTT listener (radios' MQTT module straight into the site) and bridge it (mmm mqtt)`,
    )
    .option(
      '--mqtt-port <port>',
      `with --mqtt: the listener's port (default: ${DEFAULT_PORTS.mqtt})`,
      parsePort('--mqtt-port'),
    )
    .option('--mqtt-broker <url>', 'also bridge an existing MQTT broker, e.g. mqtt://127.0.0.1:1883', parseMqttUrl)
    .option('--mqtt-topic <filter>', 'with --mqtt-broker: the topic filter (default: msh/#)', parseMqttTopic)
    .option(
      '--alerts-webhook <url>',
      'an HTTP(S) URL the alerts service POSTs each alert to (generic JSON body); repeat for several',
      (v: string, prev: string[] = []) => [...prev, parseWebhookUrl(v)],
    )
    .option('--log-level <level>', 'log level of every service (default: info)')
    .option('--reconfigure', 'rewrite the configuration files in the data directory from these flags')
    .addHelpText('after', HELP_AFTER)
    .action(async (raw: Record<string, unknown>) => {
      const { runStack, StackError } = await import('./up/stack.js');
      const { PreflightError } = await import('./up/preflight.js');
      const { SetupChangedError } = await import('./up/layout.js');
      try {
        const code = await runStack(toUpOptions(raw), {
          out: (l) => process.stdout.write(`${l}\n`),
          err: (l) => process.stderr.write(`${l}\n`),
        });
        process.exit(code);
      } catch (err) {
        if (
          err instanceof PreflightError ||
          err instanceof StackError ||
          err instanceof SetupChangedError ||
          err instanceof InvalidArgumentError
        ) {
          process.stderr.write(`mmm up: ${err.message}\n`);
          process.exit(err instanceof StackError || err instanceof PreflightError ? 1 : 2);
        }
        throw err;
      }
    });
}
