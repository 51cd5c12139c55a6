import type { Command } from 'commander';

// Placeholder: replaced by the agent's real command definitions (issue 3).
export function register(program: Command): void {
  program.command('agent').description('agent (not built yet)');
}
