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
import { loadRouteAnalysisConfig, routeAnalysisConfig } from './config.js';
import { startRouteAnalysis } from './infrastructure/service.js';

export const DEFAULT_CONFIG = 'route-analysis.ini';

interface CliOptions {
  config?: string;
  logLevel?: string;
  logFile?: string;
  pidFile?: string;
  createConfig?: string | boolean;
  force?: boolean;
  rebuild?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('route-analysis')
    .description(
      'build the mesh topology (links with SNR per direction, hop distances, relay candidates) from the hub stream',
    )
    .addHelpText(
      'after',
      `
Reads traceroute outcomes, neighbor-info and zero-hop receptions from the hub stream (MESH) through a durable
consumer, publishes changes on mesh.v1.derived.topology.link|hops|relay and keeps the current snapshot in the
JetStream KV bucket mesh_topology (keys: links, link.<from>.<to>, hops.<site>.<agent>, relays.<site>.<agent>).
On first start, or with --rebuild, it reads the whole hub stream again.

Examples:
  mmm route-analysis --create-config route-analysis.ini   write a commented sample config, then exit
  mmm route-analysis --config route-analysis.ini          run it
  mmm route-analysis --config route-analysis.ini --rebuild   rebuild everything from the stream, then run

Exit codes: 0 after SIGINT/SIGTERM, 2 for a configuration problem, 1 otherwise.
Documentation: docs/route-analysis.md`,
    );
  for (const [flags, description] of serviceOptions) cmd.option(flags, description);
  cmd
    .option('--rebuild', 'discard the checkpoint and rebuild the topology from the start of the hub stream')
    .option('--create-config [file]', `write a commented sample config (default: ${DEFAULT_CONFIG}), then exit`)
    .option('--force', 'with --create-config: overwrite an existing file')
    .action(async (opts: CliOptions) => {
      if (opts.createConfig !== undefined && opts.createConfig !== false) {
        await runService({}, async () => createConfig(opts));
        return;
      }
      await runService(opts, () => runRouteAnalysis(opts));
    });
}

function createConfig(opts: CliOptions): void {
  const file = resolve(typeof opts.createConfig === 'string' ? opts.createConfig : DEFAULT_CONFIG);
  if (existsSync(file) && !opts.force) throw new ConfigError('already exists (use --force to overwrite)', { file });
  writeFileSync(
    file,
    `# mmm route-analysis configuration (docs/route-analysis.md)\n\n${sampleConfig(routeAnalysisConfig)}`,
  );
  process.stdout.write(`wrote ${file}\nnext: mmm route-analysis --config ${file}\n`);
}

async function runRouteAnalysis(opts: CliOptions): Promise<void> {
  const cfg = loadRouteAnalysisConfig(opts.config);
  let log: ReturnType<typeof createLogger>;
  try {
    log = createLogger({
      name: 'route-analysis',
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
  const telemetry = await startTelemetry(cfg.opentelemetry, { serviceName: 'mmm-route-analysis' });
  shutdown.add('telemetry', () => telemetry.shutdown());
  const running = await startRouteAnalysis(cfg, { log, rebuild: opts.rebuild === true });
  shutdown.add('route-analysis', () => running.stop());
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
  log.info({ ...running.stats() }, 'route analysis running');
}
