// Only the version: @mmm/common's index loads nats, pino and OpenTelemetry, which the agent's heap setup must precede.
import { VERSION } from '@mmm/common/version';
import { Command } from 'commander';

/** What each service module contributes: it adds its own subcommands with their options and help. */
export type Register = (program: Command) => void;

/**
 * Command name -> module that registers it. Only the module of the command being run is loaded, so `mmm decode`
 * does not pay for the API server's dependencies; `mmm --help` loads them all to list every command.
 */
const MODULES: Record<string, () => Promise<{ register: Register }>> = {
  up: () => import('./commands/up.js'),
  creds: () => import('./commands/creds.js'),
  // The agent sizes V8's heap before its dependencies load: what the young generation grows to while they load, it
  // keeps (src/heap.ts in the agent).
  agent: async () => {
    (await import('@mmm/agent/heap')).compactHeap();
    return import('@mmm/agent/cli');
  },
  // `mmm streams provision` is registered by the agent's module.
  streams: () => import('@mmm/agent/cli'),
  decode: () => import('@mmm/agent/decode-cli'),
  // The MQTT bridge sits beside the agent on a site box and allocates like it (decode, JSON, publish bookkeeping).
  mqtt: async () => {
    (await import('@mmm/agent/heap')).compactHeap();
    return import('@mmm/agent/mqtt-cli');
  },
  sim: () => import('@mmm/simulator/cli'),
  ingest: () => import('@mmm/ingest/cli'),
  'route-analysis': () => import('@mmm/route-analysis/cli'),
  api: () => import('@mmm/api/cli'),
  // The history tools stream for minutes to hours: the agent's V8 settings keep their garbage from piling up.
  export: async () => {
    (await import('@mmm/agent/heap')).compactHeap();
    return import('@mmm/api/tools-cli');
  },
  'import-original': async () => {
    (await import('@mmm/agent/heap')).compactHeap();
    return import('@mmm/api/tools-cli');
  },
  rederive: () => import('./commands/rederive.js'),
  alerts: () => import('@mmm/alerts/cli'),
};

export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('mmm')
    .description('MeshyMcMapface: monitoring for Meshtastic mesh networks over NATS JetStream')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions()
    .configureHelp({ sortSubcommands: true })
    // Usage errors (unknown option, missing argument, bad value) exit 2, like configuration errors; help and
    // version exit 0. Subcommands added below inherit this.
    .exitOverride((err) => {
      process.exit(
        err.exitCode === 0
          ? 0
          : err.code.startsWith('commander.') && err.code !== 'commander.executeSubCommandAsync'
            ? 2
            : err.exitCode,
      );
    });
  const name = argv.find((a) => !a.startsWith('-'));
  const wanted = name && name in MODULES ? [MODULES[name]!] : [...new Set(Object.values(MODULES))];
  const loaded = new Set<Register>();
  for (const load of wanted) {
    const mod = await load();
    if (loaded.has(mod.register)) continue;
    loaded.add(mod.register);
    mod.register(program);
  }
  return program;
}
