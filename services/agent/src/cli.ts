import type { Command } from 'commander';

// Placeholder: replaced by the service's real command definitions.
export function register(program: Command): void {
  program.command('agent').description('agent (not built yet)');
  program.command('decode').description('decode (not built yet)');
}
