import { basename } from 'node:path';
import { connectNats, natsConnectOptions } from '@mmm/common';
import type { Command } from 'commander';
import { OriginalDbError, openOriginal, TABLE_ORDER } from './original.js';
import { DEFAULT_IMPORT_BATCH, importOriginal } from './run.js';

interface ImportCliOptions {
  hub: string;
  site: string;
  state?: string;
  batch: string;
  creds?: string;
}

export function registerImport(program: Command): void {
  program
    .command('import-original')
    .description(
      "publish the original server's SQLite database (agents, nodes, name history, routes, packets) through the hub as the legacy site, with the original timestamps; resumable, and a rerun publishes nothing twice",
    )
    .argument('<db>', "the original server's database file (meshview.db)")
    .requiredOption('--hub <url>', 'a NATS URL of the hub (comma-separated for several)')
    .option('--site <site>', 'the site the events are published under', 'legacy')
    .option('--state <file>', 'where progress is kept between runs (default: ./<db file>.import-state.json)')
    .option('--batch <rows>', 'rows per acknowledged batch', String(DEFAULT_IMPORT_BATCH))
    .option('--creds <file>', 'NATS credentials file of a user that may publish the site subjects')
    .addHelpText(
      'after',
      '\nExample:\n  mmm import-original /var/lib/meshymcmapface/meshview.db --hub nats://hub:4222\n\nStop it with Ctrl-C at any time and run the same command again to go on (docs/operations.md, "History tools").',
    )
    .action(async (path: string, o: ImportCliOptions) => {
      let db: ReturnType<typeof openOriginal>;
      try {
        db = openOriginal(path);
      } catch (err) {
        if (!(err instanceof OriginalDbError)) throw err;
        process.stderr.write(`mmm import-original: refused: ${err.message}\n`);
        process.exitCode = 2;
        return;
      }
      const nc = await connectNats(natsConnectOptions({ url: o.hub, creds: o.creds }, 'mmm-import-original'));
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let rejected = 0;
      try {
        const r = await importOriginal({
          db,
          js: nc.jetstream(),
          site: o.site,
          statePath: o.state ?? `${basename(path)}.import-state.json`,
          batch: Number(o.batch),
          signal: stop.signal,
          onReject: (table, rowid, why) => {
            if (++rejected <= 20) process.stderr.write(`mmm import-original: ${table} row ${rowid} skipped: ${why}\n`);
          },
        });
        const summary = Object.fromEntries(
          TABLE_ORDER.map((t) => [t, { in_file: db.counts[t], ...r.state.counts[t] }]),
        );
        process.stdout.write(`${JSON.stringify({ stopped: r.stopped, new_rows: r.newRows, tables: summary })}\n`);
        if (r.stopped) {
          process.stderr.write('mmm import-original: stopped; run the same command again to go on\n');
          process.exitCode = 130;
        }
      } catch (err) {
        if (!(err instanceof OriginalDbError)) throw err;
        process.stderr.write(`mmm import-original: ${err.message}\n`);
        process.exitCode = 2;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        db.close();
        await nc.drain();
      }
    });
}
