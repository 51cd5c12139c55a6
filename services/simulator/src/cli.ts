import type { Command } from 'commander';

// Placeholder: replaced by the service's real command definitions.
export function register(program: Command): void {
  program.command('sim').description('sim (not built yet)');
}
