import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  ConfigError,
  createLogger,
  logShippersFromConfig,
  runService,
  Shutdown,
  sampleConfig,
  serviceOptions,
  startOpsServer,
  startTelemetry,
} from '@mmm/common';
import type { Command } from 'commander';
import { alertsConfig, DEFAULT_RULES_INI, loadAlertsConfig } from './config.js';
import { startAlerts } from './infrastructure/service.js';

export const DEFAULT_CONFIG = 'alerts.ini';

interface CliOptions {
  config?: string;
  logLevel?: string;
  logFile?: string;
  pidFile?: string;
  createConfig?: string | boolean;
  force?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('alerts')
    .description('evaluate alert rules on the hub stream; notify once on the alert subjects and webhooks')
    .addHelpText(
      'after',
      `
Reads the hub stream (MESH) through its durable consumer, evaluates the [rule_<name>] sections of its config (and the
rules added through the API), and for every alert that fires or resolves publishes mesh.v1.alerts.<rule>.<state> and
calls the [webhook_<name>] endpoints (generic JSON, ntfy, Discord, Slack), retrying with backoff until they answer;
[mesh_<name>] sections send a text through an agent's radio for the rules they name (rate limited; none by default).
Alerts are kept in the KV bucket mesh_alerts; its checkpoint in mesh_alerts_state, so a restart (even kill -9)
neither forgets a firing alert nor notifies it again. The first evaluation of a rule only establishes state.

Examples:
  mmm alerts --create-config alerts.ini   write a commented sample config with the default rules, then exit
  mmm alerts --config alerts.ini          run it

Exit codes: 0 after SIGINT/SIGTERM, 2 for a configuration problem (a bad rule names file, section and key), 1 otherwise.
Documentation: docs/alerts.md`,
    );
  for (const [flags, description] of serviceOptions) cmd.option(flags, description);
  cmd
    .option('--create-config [file]', `write a commented sample config (default: ${DEFAULT_CONFIG}), then exit`)
    .option('--force', 'with --create-config: overwrite an existing file')
    .action(async (opts: CliOptions) => {
      if (opts.createConfig !== undefined && opts.createConfig !== false) {
        await runService({}, async () => createConfig(opts));
        return;
      }
      await runService(opts, () => runAlerts(opts));
    });
}

function createConfig(opts: CliOptions): void {
  const file = resolve(typeof opts.createConfig === 'string' ? opts.createConfig : DEFAULT_CONFIG);
  if (existsSync(file) && !opts.force) throw new ConfigError('already exists (use --force to overwrite)', { file });
  writeFileSync(
    file,
    `# mmm alerts configuration (docs/alerts.md)\n\n${sampleConfig(alertsConfig)}\n# Rules: one [rule_<name>] section each (docs/alerts.md)\n${DEFAULT_RULES_INI}`,
  );
  process.stdout.write(`wrote ${file}\nnext: mmm alerts --config ${file}\n`);
}

async function runAlerts(opts: CliOptions): Promise<void> {
  const cfg = loadAlertsConfig(opts.config);
  let log: ReturnType<typeof createLogger>;
  try {
    log = createLogger({
      name: 'alerts',
      level: opts.logLevel ?? cfg.log.level,
      file: opts.logFile ?? cfg.log.file,
      extra: logShippersFromConfig(cfg),
    });
  } catch (cause) {
    throw new ConfigError(
      (cause as Error).message,
      opts.logLevel ? {} : { file: cfg.file, section: 'log', key: 'level' },
      { cause },
    );
  }
  const shutdown = new Shutdown(log).listen();
  const telemetry = await startTelemetry(cfg.opentelemetry, { serviceName: 'mmm-alerts' });
  shutdown.add('telemetry', () => telemetry.shutdown());
  const running = await startAlerts(cfg, { log });
  shutdown.add('alerts', () => running.stop());
  if (cfg.ops.enabled) {
    const ops = await startOpsServer({
      host: cfg.ops.host,
      port: cfg.ops.port,
      registry: running.metrics.registry,
      ready: () => running.ready(),
      health: () => ({ ...running.stats() }),
    });
    shutdown.add('ops', () => ops.close());
    log.info({ port: ops.port }, 'ops endpoints listening');
  }
  log.info({ ...running.stats() }, 'alerts running');
}
