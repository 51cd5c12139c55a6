import { existsSync, writeFileSync } from 'node:fs';
import {
  ConfigError,
  createLogger,
  loadConfig,
  logShippersFromConfig,
  runService,
  type ServiceCliOptions,
  sampleConfig,
  serviceOptions,
  startTelemetry,
} from '@mmm/common';
import type { Command } from 'commander';
import { ingestConfigSpec } from './config.js';
import { runRebuild } from './rebuild/cli.js';
import { startIngest } from './service.js';

const HELP_AFTER = `
Consumes the hub stream (every site's receptions, node-DB snapshots, traceroutes and agent heartbeats) with a durable
pull consumer and writes history to ClickHouse when [clickhouse] url is set, otherwise to SQLite ([sqlite] path,
default ./data/history.db). Batches of about one second or [ingest] batch_max events are acked only after the store
committed them; a redelivered batch changes nothing. Invalid events go to mesh.v1.dlq.ingest with the reason.
Tables and queries: schemas/ddl/README.md. Operations: docs/ingest.md.

Without --config every default applies: nats://127.0.0.1:4222, SQLite in ./data/history.db, ops on 127.0.0.1:9403.
Environment variables MMM_<SECTION>_<KEY> override the file, e.g. MMM_CLICKHOUSE_URL=http://127.0.0.1:8123.

Examples:
  mmm ingest --create-config ingest.ini      write a commented sample configuration
  mmm ingest --config ingest.ini             run
  curl -s 127.0.0.1:9403/metrics | grep ^ingest_
  MMM_SQLITE_PATH=rebuilt.db mmm ingest --config ingest.ini --rebuild --since 2026-01-01T00:00:00Z
                                             a new store from the hub stream, beside the live ingest
`;

interface IngestCliOptions extends ServiceCliOptions {
  createConfig?: string | boolean;
  rebuild?: boolean;
  since?: string;
  state?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('ingest')
    .description(
      'history: hub stream -> ClickHouse or SQLite (receptions, packets, positions, telemetry, rollups, ...)',
    );
  for (const [flags, description] of serviceOptions) cmd.option(flags, description);
  cmd
    .option('--create-config [file]', 'write a sample configuration to file (default ingest.ini) and exit')
    .option(
      '--rebuild',
      "fill the configured store (a new one, not the live ingest's) from what the hub stream holds since --since, then exit; resumable",
    )
    .option('--since <time>', 'with --rebuild: messages the hub stream stored from this ISO 8601 time on')
    .option('--state <file>', 'with --rebuild: where progress is kept between runs (default ./rebuild-state.json)')
    .addHelpText('after', HELP_AFTER)
    .action(async (opts: IngestCliOptions) => {
      if (opts.createConfig) {
        const file = typeof opts.createConfig === 'string' ? opts.createConfig : 'ingest.ini';
        if (existsSync(file)) {
          process.stderr.write(`error: ${file} exists; not overwriting it\n`);
          process.exitCode = 2;
          return;
        }
        writeFileSync(file, sampleConfig(ingestConfigSpec));
        process.stdout.write(`wrote ${file}\n`);
        return;
      }
      if (opts.rebuild) {
        await runRebuild(opts);
        return;
      }
      await runService(opts, async () => {
        const config = loadConfig(ingestConfigSpec, opts.config);
        let log: ReturnType<typeof createLogger>;
        try {
          log = createLogger({
            name: 'ingest',
            level: opts.logLevel ?? config.log.level,
            file: opts.logFile ?? config.log.file,
            extra: logShippersFromConfig(config),
          });
        } catch (cause) {
          throw new ConfigError((cause as Error).message, { section: 'log', key: 'level' }, { cause });
        }
        const telemetry = await startTelemetry(config.opentelemetry, { serviceName: 'mmm-ingest' });
        const running = await startIngest(config, log);
        const stop = (signal: NodeJS.Signals) => {
          log.info({ signal }, 'shutting down');
          void running
            .stop()
            .then(() => telemetry.shutdown())
            .then(() => process.exit(0));
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        await running.done;
      });
    });
}
