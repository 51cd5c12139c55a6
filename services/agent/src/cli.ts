import { resolve } from 'node:path';
import {
  ConfigError,
  connectNats,
  createLogger,
  createLogShippers,
  createRegistry,
  type Logger,
  natsConnectOptions,
  runService,
  Shutdown,
  serviceOptions,
  startOpsServer,
  startTelemetry,
} from '@mmm/common';
import { type Command, Option } from 'commander';
import { startAgent } from './agent.js';
import { natsServerSupportsSync } from './config/nats-version.js';
import { SAMPLE_DEFAULTS, writeSampleConfig } from './config/sample.js';
import { loadAgentSettings } from './config/settings.js';
import { registerAgentMetrics } from './status/metrics.js';
import { provisionHub, provisionHubConsumers, provisionSite } from './streams/provision.js';

/** How the provisioning commands authenticate: an admin's NATS credential and TLS files. */
interface AdminAuth {
  creds?: string;
  user?: string;
  password?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

function withAdminAuth(cmd: Command): Command {
  return cmd
    .option('--creds <file>', 'NATS .creds file')
    .option('--user <name>', 'NATS user')
    .option('--password <password>', 'NATS password')
    .option('--tls-ca <file>', 'CA to verify the server with (TLS)')
    .option('--tls-cert <file>', 'client certificate, where the server requires one')
    .option('--tls-key <file>', 'key of --tls-cert');
}

function connectAdmin(urls: string, name: string, a: AdminAuth, log: Logger) {
  const section = {
    url: urls,
    creds: a.creds,
    user: a.user,
    password: a.password,
    tls_ca: a.tlsCa,
    tls_cert: a.tlsCert,
    tls_key: a.tlsKey,
  };
  return connectNats({ ...natsConnectOptions(section, name), connectTimeoutMs: 10_000 }, log);
}

/** The original's default was multi_agent_config.ini; we keep a shorter name. */
export const DEFAULT_CONFIG = 'agent.ini';

interface AgentCliOptions {
  config?: string;
  logLevel?: string;
  logFile?: string;
  pidFile?: string;
  createConfig?: string | boolean;
  force?: boolean;
  site?: string;
  agentType?: string;
}

export function register(program: Command): void {
  const agent = program
    .command('agent')
    .description(
      'run the agent: read one Meshtastic radio (serial or TCP), publish its events to the site leaf nats-server',
    )
    .addHelpText(
      'after',
      `
Examples:
  mmm agent --create-config /etc/meshymcmapface/agent.ini   write a commented sample and the leaf nats-server config
  mmm agent --config /etc/meshymcmapface/agent.ini          run it (the original's INI files load unchanged)

Exit codes: 0 after SIGINT/SIGTERM, 2 for a configuration problem (file, section and key are named), 1 otherwise.
Documentation: docs/agent.md`,
    );
  for (const [flags, description] of serviceOptions) agent.option(flags, description);
  agent
    .option(
      '--create-config [file]',
      `write a sample agent INI (default: ${DEFAULT_CONFIG}) and leaf-<site>.conf next to it, then exit`,
    )
    .option('--force', 'with --create-config: overwrite existing files')
    .option('--site <id>', 'with --create-config: site id for the sample', SAMPLE_DEFAULTS.site)
    .addOption(
      new Option('--agent-type <type>', "accepted for the original's command lines")
        .choices(['multi_server'])
        .hideHelp(),
    )
    .action(async (opts: AgentCliOptions) => {
      if (opts.createConfig !== undefined && opts.createConfig !== false) {
        await runService({}, async () => createConfig(opts));
        return;
      }
      await runService(opts, () => runAgent(opts));
    });

  const streamsCmd = program.command('streams').description('JetStream stream administration');
  const provisionCmd = streamsCmd
    .command('provision')
    .description(
      'as admin, create or update the hub streams (MESH sourcing every site stream from its leaf domain, MESH_DERIVED, MESH_DLQ, MESH_ALERTS), the durable consumers of ingest and api, and the KV buckets of route-analysis and alerts (idempotent)',
    )
    .requiredOption('--hub <url>', 'hub NATS URL, e.g. nats://127.0.0.1:4222')
    .requiredOption('--site <id...>', 'site ids to source (repeat or list several)')
    .option(
      '--hub-site <id...>',
      "sites that publish straight to the hub, captured by MESH itself (the API's legacy agent site, default of [legacy] site: legacy)",
    )
    .option('--replicas <n>', 'stream and KV replicas (3 on the hub cluster)', (v) => Number.parseInt(v, 10), 1)
    .option('--api-instance <id...>', "the API instances' [server] instance_id (one pair of durables each)", ['api'])
    .option(
      '--public-reader <name...>',
      'consumer-public users of mmm creds: their durables <name>_nodedb, _status, _trace, _topology (they may not make their own)',
    );
  withAdminAuth(provisionCmd).action(
    async (
      opts: AdminAuth & {
        hub: string;
        site: string[];
        hubSite?: string[];
        replicas: number;
        apiInstance: string[];
        publicReader?: string[];
      },
    ) => {
      await runService({}, async () => {
        const log = createLogger({ name: 'streams', level: 'warn' });
        const nc = await connectAdmin(opts.hub, 'mmm-streams-provision', opts, log);
        try {
          const jsm = await nc.jetstreamManager();
          const infos = await provisionHub(jsm, {
            sites: opts.site,
            hubSites: opts.hubSite ?? [],
            replicas: opts.replicas,
          });
          const made = await provisionHubConsumers(jsm, nc.jetstream(), {
            replicas: opts.replicas,
            apiInstances: opts.apiInstance,
            publicReaders: opts.publicReader ?? [],
          });
          for (const i of infos) {
            const src = i.config.sources?.map((s) => s.name).join(', ');
            const subj = i.config.subjects?.join(', ');
            process.stdout.write(
              `${i.config.name}: ${i.state.messages} messages${src ? `, sources ${src}` : ''}${subj ? `, subjects ${subj}` : ''}\n`,
            );
          }
          for (const c of made.consumers) process.stdout.write(`consumer ${c.stream_name}.${c.name}\n`);
          for (const b of made.buckets) process.stdout.write(`kv bucket ${b}\n`);
        } finally {
          await nc.close();
        }
      });
    },
  );

  const provisionSiteCmd = streamsCmd
    .command('provision-site')
    .description(
      "as the site's admin (admin-<site> of mmm creds), create or update the site stream on its leaf (idempotent)",
    )
    .requiredOption('--leaf <url>', "the site leaf's NATS URL, e.g. nats://127.0.0.1:4222")
    .requiredOption('--site <id>', 'site id')
    .option('--max-age <hours>', 'retention, as [nats] stream_max_age of the agents (0 = until limits)', Number, 0)
    .option('--max-bytes <n>', 'size limit, as [nats] stream_max_bytes (-1 = none)', (v) => Number.parseInt(v, 10), -1);
  withAdminAuth(provisionSiteCmd).action(
    async (
      opts: AdminAuth & {
        leaf: string;
        site: string;
        maxAge: number;
        maxBytes: number;
      },
    ) => {
      await runService({}, async () => {
        const log = createLogger({ name: 'streams', level: 'warn' });
        const nc = await connectAdmin(opts.leaf, 'mmm-streams-provision-site', opts, log);
        try {
          const i = await provisionSite(await nc.jetstreamManager(), opts.site, {
            maxAgeMs: opts.maxAge * 3_600_000,
            maxBytes: opts.maxBytes,
          });
          process.stdout.write(
            `${i.config.name}: ${i.state.messages} messages, subjects ${i.config.subjects.join(', ')}\n`,
          );
        } finally {
          await nc.close();
        }
      });
    },
  );
}

function createConfig(opts: AgentCliOptions): void {
  const file = resolve(typeof opts.createConfig === 'string' ? opts.createConfig : (opts.config ?? DEFAULT_CONFIG));
  const site = opts.site ?? SAMPLE_DEFAULTS.site;
  const written = writeSampleConfig(
    file,
    {
      site,
      agent: SAMPLE_DEFAULTS.agent,
      leafPort: SAMPLE_DEFAULTS.leafPort,
      hubLeafUrl: SAMPLE_DEFAULTS.hubLeafUrl,
      storeDir: `/var/lib/meshymcmapface/leaf-${site}`,
      syncSupported: natsServerSupportsSync(),
    },
    opts.force === true,
  );
  process.stdout.write(
    `wrote ${written.ini}\nwrote ${written.leaf}\nnext: edit both, start the leaf (nats-server -c ${written.leaf}), then: mmm agent --config ${written.ini}\n`,
  );
}

async function runAgent(opts: AgentCliOptions): Promise<void> {
  const file = opts.config ?? DEFAULT_CONFIG;
  const settings = loadAgentSettings(file);
  const shippers = createLogShippers(settings.jsonTcpLog);
  let log: Logger;
  try {
    log = createLogger({
      name: 'agent',
      extra: shippers,
      level: opts.logLevel ?? settings.log.level,
      file: opts.logFile ?? settings.log.file,
      base: { site: settings.site, agent: settings.agent },
    });
  } catch (cause) {
    throw new ConfigError((cause as Error).message, opts.logLevel ? {} : { file, section: 'log', key: 'level' }, {
      cause,
    });
  }
  const shutdown = new Shutdown(log).listen();
  shutdown.add('log shipping', async () => {
    await Promise.all(shippers.map((s) => s.close()));
  });
  // Started before the agent, so the first packet's publish span is recorded; stopped after it (registered first).
  const telemetry = await startTelemetry(settings.opentelemetry, { serviceName: 'mmm-agent' });
  shutdown.add('telemetry', () => telemetry.shutdown());
  const running = await startAgent(settings, { log });
  shutdown.add('agent', () => running.stop());
  if (settings.status.opsPort !== undefined) {
    const registry = createRegistry('agent');
    registerAgentMetrics(registry, running);
    const ops = await startOpsServer({
      port: settings.status.opsPort,
      registry,
      ready: () => running.session.state === 'connected' && running.nc.isClosed() === false,
      health: () => ({ radio: running.session.state, backlog: running.sink.backlog, counters: running.counters }),
    });
    shutdown.add('ops', () => ops.close());
    log.info({ port: ops.port }, 'ops endpoints listening');
  }
  await new Promise<void>(() => undefined);
}
