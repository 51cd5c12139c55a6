import type { Command } from 'commander';
import { registerExport } from './export/cli.js';
import { registerImport } from './import/cli.js';

/** The history tools that talk to a running API or the hub: `mmm export` (and the importers beside it). */
export function register(program: Command): void {
  registerExport(program);
  registerImport(program);
}
