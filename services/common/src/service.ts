import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from './errors.js';

export interface ServiceCliOptions {
  config?: string;
  logLevel?: string;
  logFile?: string;
  pidFile?: string;
}

/** The options every long-running service takes, as [flags, description] pairs for commander. */
export const serviceOptions: readonly [string, string][] = [
  ['-c, --config <file>', 'configuration file (INI)'],
  ['--log-level <level>', 'trace, debug, info, warn, error or fatal (default: info, or [log] level)'],
  ['--log-file <file>', 'also write JSON log lines to this file, rotated at 10 MB, 5 kept'],
  ['--pid-file <file>', 'write the process id here while running'],
];

/**
 * Runs a service's main function: writes and removes the pid file, and turns failures into exit codes
 * (2 for configuration errors, with the message alone; 1 for anything else).
 */
export async function runService(opts: ServiceCliOptions, main: () => Promise<void>): Promise<void> {
  if (opts.pidFile) {
    mkdirSync(dirname(opts.pidFile), { recursive: true });
    writeFileSync(opts.pidFile, `${process.pid}\n`);
    process.once('exit', () => rmSync(opts.pidFile!, { force: true }));
  }
  try {
    await main();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`error: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  }
}
