import { resolve } from 'node:path';
import { keyringFromOptions } from '@mmm/agent/decode-cli';
import { Progress } from '@mmm/common';
import { openRederiver, RederiveError, type ScanSource, scanReceptions } from '@mmm/ingest';
import type { Command } from 'commander';
import { addToPlan, emptyPlan } from './rederive/count.js';
import { DEFAULT_REDERIVE_BATCH, runRederive } from './rederive/run.js';
import { loadState, RederiveStateError } from './rederive/state.js';

interface RederiveOptions {
  dryRun?: boolean;
  since: string;
  until?: string;
  sqlite?: string;
  clickhouse?: string;
  database: string;
  user: string;
  password?: string;
  key: string[];
  state?: string;
  batch: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function time(value: string, name: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new Error(`${name}: not an ISO 8601 time: ${value}`);
  return ms;
}

export function register(program: Command): void {
  program
    .command('rederive')
    .description(
      "re-decode stored receptions' raw bytes with today's decoder and keys and rewrite what changed in the store (newest decoder version wins); resumable; --dry-run only prints the counts by port before and after",
    )
    .option('--dry-run', 'only count what would change')
    .requiredOption('--since <time>', 'receptions received from this ISO 8601 time on')
    .option('--until <time>', 'and before this one (default: now, or the end of the unfinished run being resumed)')
    .option('--sqlite <path>', "ingest's SQLite history file")
    .option('--clickhouse <url>', "ingest's ClickHouse (HTTP URL)")
    .option('--database <name>', 'ClickHouse database', 'mmm')
    .option('--user <name>', 'ClickHouse user', 'default')
    .option('--password <password>', 'ClickHouse password (default: $MMM_CLICKHOUSE_PASSWORD)')
    .option('-k, --key <name=base64>', 'a channel key, as for mmm decode (repeatable)', collect, [])
    .option('--state <file>', 'where progress is kept between runs (default: ./rederive-state.json)')
    .option('--batch <receptions>', 'receptions per applied batch', String(DEFAULT_REDERIVE_BATCH))
    .addHelpText(
      'after',
      '\nExamples:\n  mmm rederive --dry-run --sqlite data/history.db --since 2026-01-01T00:00:00Z --key Secret=5xJ9Zq1bd0Hk7T3aV2mP8w==\n  mmm rederive --sqlite data/history.db --since 2026-01-01T00:00:00Z --key Secret=5xJ9Zq1bd0Hk7T3aV2mP8w==\n\nStop it with Ctrl-C at any time and run the same command again to go on (docs/operations.md, "mmm rederive").\n',
    )
    .action(async (o: RederiveOptions) => {
      const fail = (msg: string) => {
        process.stderr.write(`mmm rederive: ${msg}\n`);
        process.exitCode = 2;
      };
      if (Boolean(o.sqlite) === Boolean(o.clickhouse))
        return fail('give one store: --sqlite <path> or --clickhouse <url>');
      const batch = Number(o.batch);
      if (!Number.isInteger(batch) || batch < 1) return fail(`--batch: not a positive integer: ${o.batch}`);
      let since: number;
      let until: number | undefined;
      let keys: ReturnType<typeof keyringFromOptions>;
      try {
        since = time(o.since, '--since');
        until = o.until ? time(o.until, '--until') : undefined;
        keys = keyringFromOptions(o.key);
      } catch (err) {
        return fail((err as Error).message);
      }
      if (until !== undefined && until <= since) return fail('--until must be later than --since');
      const src: ScanSource = o.sqlite
        ? { kind: 'sqlite', path: o.sqlite }
        : {
            kind: 'clickhouse',
            url: o.clickhouse!,
            database: o.database,
            user: o.user,
            password: o.password ?? process.env.MMM_CLICKHOUSE_PASSWORD,
          };
      if (o.dryRun) {
        const plan = emptyPlan();
        const progress = new Progress({ label: 'rederive --dry-run', unit: 'receptions' });
        try {
          for await (const rows of scanReceptions(src, { since, until: until ?? Date.now() })) {
            addToPlan(plan, rows, keys);
            progress.add(rows.length);
          }
        } catch (err) {
          return fail(`reading ${o.sqlite ?? o.clickhouse} failed: ${(err as Error).message}`);
        } finally {
          progress.finish();
        }
        process.stdout.write(`${JSON.stringify({ dry_run: true, ...plan })}\n`);
        return;
      }
      const storeName = o.sqlite ? resolve(o.sqlite) : `${o.clickhouse} ${o.database}`;
      const statePath = o.state ?? 'rederive-state.json';
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let store: ReturnType<typeof openRederiver> | undefined;
      try {
        const { state, resumed } = loadState(statePath, storeName, since, until, Date.now());
        if (resumed)
          process.stderr.write(
            `mmm rederive: resuming the run of version ${state.version} after ${state.counts.scanned} receptions\n`,
          );
        store = openRederiver(src);
        const r = await runRederive({ store, state, statePath, keys, batch, signal: stop.signal });
        process.stdout.write(
          `${JSON.stringify({ stopped: r.stopped, version: state.version, since: new Date(state.since).toISOString(), until: new Date(state.until).toISOString(), ...state.counts })}\n`,
        );
        if (r.stopped) {
          process.stderr.write('mmm rederive: stopped; run the same command again to go on\n');
          process.exitCode = 130;
        }
      } catch (err) {
        if (!(err instanceof RederiveError || err instanceof RederiveStateError)) throw err;
        return fail(err.message);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await store?.close();
      }
    });
}
