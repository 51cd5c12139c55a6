import { keyringFromOptions } from '@mmm/agent/decode-cli';
import { Progress } from '@mmm/common';
import { type ScanSource, scanReceptions } from '@mmm/ingest';
import type { Command } from 'commander';
import { addToPlan, emptyPlan } from './rederive/count.js';

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
      "re-decode stored receptions' raw bytes with today's decoder and keys; --dry-run prints the counts by port before and after (writing the re-derived rows is not built yet)",
    )
    .option('--dry-run', 'only count what would change (required for now)')
    .requiredOption('--since <time>', 'receptions received from this ISO 8601 time on')
    .option('--until <time>', 'and before this one (default: now)')
    .option('--sqlite <path>', "ingest's SQLite history file")
    .option('--clickhouse <url>', "ingest's ClickHouse (HTTP URL)")
    .option('--database <name>', 'ClickHouse database', 'mmm')
    .option('--user <name>', 'ClickHouse user', 'default')
    .option('--password <password>', 'ClickHouse password (default: $MMM_CLICKHOUSE_PASSWORD)')
    .option('-k, --key <name=base64>', 'a channel key, as for mmm decode (repeatable)', collect, [])
    .addHelpText(
      'after',
      '\nExample:\n  mmm rederive --dry-run --sqlite data/history.db --since 2026-01-01T00:00:00Z --key Secret=5xJ9Zq1bd0Hk7T3aV2mP8w==\n',
    )
    .action(async (o: RederiveOptions) => {
      const fail = (msg: string) => {
        process.stderr.write(`mmm rederive: ${msg}\n`);
        process.exitCode = 2;
      };
      if (!o.dryRun)
        return fail(
          'only --dry-run is available: writing re-derived rows into the stores (newest decoder version wins) is not built yet',
        );
      if (Boolean(o.sqlite) === Boolean(o.clickhouse))
        return fail('give one store: --sqlite <path> or --clickhouse <url>');
      let range: { since: number; until: number };
      let keys: ReturnType<typeof keyringFromOptions>;
      try {
        range = { since: time(o.since, '--since'), until: o.until ? time(o.until, '--until') : Date.now() };
        keys = keyringFromOptions(o.key);
      } catch (err) {
        return fail((err as Error).message);
      }
      const src: ScanSource = o.sqlite
        ? { kind: 'sqlite', path: o.sqlite }
        : {
            kind: 'clickhouse',
            url: o.clickhouse!,
            database: o.database,
            user: o.user,
            password: o.password ?? process.env.MMM_CLICKHOUSE_PASSWORD,
          };
      const plan = emptyPlan();
      const progress = new Progress({ label: 'rederive --dry-run', unit: 'receptions' });
      try {
        for await (const rows of scanReceptions(src, range)) {
          addToPlan(plan, rows, keys);
          progress.add(rows.length);
        }
      } catch (err) {
        return fail(`reading ${o.sqlite ?? o.clickhouse} failed: ${(err as Error).message}`);
      } finally {
        progress.finish();
      }
      process.stdout.write(`${JSON.stringify({ dry_run: true, ...plan })}\n`);
    });
}
