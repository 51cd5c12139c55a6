import type { Command } from 'commander';

// Placeholder until the whole-stack launcher lands (issue 7).
export function register(program: Command): void {
  program.command('up').description('start the whole stack on one machine (hub, leaf, simulator, agent, ingest, route-analysis, api)');
}
