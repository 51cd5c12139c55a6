import { createLogger, loadConfig, type ServiceCliOptions } from '@mmm/common';
import { ingestConfigSpec } from '../config.js';
import { rebuildStore } from './start.js';

/** `mmm ingest --rebuild --since <time>`: one run, progress on stderr, the final state as JSON on stdout. */
export async function runRebuild(opts: ServiceCliOptions & { since?: string; state?: string }): Promise<void> {
  const fail = (msg: string) => {
    process.stderr.write(`mmm ingest --rebuild: ${msg}\n`);
    process.exitCode = 2;
  };
  const since = opts.since ? Date.parse(opts.since) : Number.NaN;
  if (!Number.isFinite(since)) return fail(`--since <ISO 8601 time> is required (got ${opts.since ?? 'nothing'})`);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const config = loadConfig(ingestConfigSpec, opts.config);
    // Warnings only unless asked: the progress on stderr is what an operator watches, and logs share stdout with the
    // final JSON line.
    const log = createLogger({ name: 'ingest-rebuild', level: opts.logLevel ?? 'warn', file: opts.logFile });
    const r = await rebuildStore(
      config,
      { since, statePath: opts.state ?? 'rebuild-state.json', signal: stop.signal },
      log,
    );
    process.stdout.write(`${JSON.stringify({ stopped: r.stopped, ...r.state })}\n`);
    if (r.stopped) {
      process.stderr.write('mmm ingest --rebuild: stopped; run the same command again to go on\n');
      process.exitCode = 130;
    }
  } catch (err) {
    // Named errors (ConfigError, RebuildStateError, StoreError, NATS errors) say what failed and where.
    return fail((err as Error).message);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
