import type { Command } from 'commander';

// Placeholder: replaced by the decode tool (issue 3).
export function register(program: Command): void {
  program.command('decode').description('decode base64 Meshtastic packets from stdin into contract events (not built yet)');
}
