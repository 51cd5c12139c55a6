import {
  createLogger,
  defineConfig,
  loadConfig,
  logSection,
  runService,
  type ServiceCliOptions,
  Shutdown,
  serviceOptions,
} from '@mmm/common';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULTS, startSimulator } from './simulator.js';
import { TRACEROUTE_RATE_LIMIT_MS } from './traceroute.js';
import { MAX_NODES, MIN_NODES, nodeId } from './world.js';

/** The radio's TCP port (Meshtastic's stream API). */
export const DEFAULT_TCP_PORT = 4403;

export const simConfigSpec = defineConfig({
  sections: {
    sim: {
      description: 'Mesh simulator (command-line flags take precedence)',
      fields: {
        nodes: {
          type: 'int',
          min: MIN_NODES,
          max: MAX_NODES,
          description: `Nodes in the mesh, the gateway included (default ${DEFAULTS.nodes})`,
        },
        rate: {
          type: 'number',
          min: 0,
          unit: 'packets/s',
          description: `Live packets per second, all ports together (default ${DEFAULTS.rate})`,
        },
        seed: {
          type: 'int',
          description: `Seed: the same seed gives the same mesh and packet sequence (default ${DEFAULTS.seed})`,
        },
        host: { type: 'string', description: `Address to listen on (default ${DEFAULTS.host})` },
        port: {
          type: 'int',
          min: 0,
          max: 65535,
          description: `TCP port, 0 = any free port (default ${DEFAULT_TCP_PORT})`,
        },
        replay: { type: 'string', description: 'Replay this capture instead of generating traffic' },
        loop: { type: 'bool', description: 'Replay the capture again and again' },
        pty: { type: 'string', description: 'Also expose the radio as this serial device path (a PTY made by socat)' },
        hostile_names: { type: 'bool', description: 'Give one node an HTML-injection name' },
        debug_log: { type: 'bool', description: 'Interleave firmware-style debug log text between frames' },
        trace_rate_limit_ms: {
          type: 'int',
          min: 0,
          unit: 'ms',
          description: `One traceroute per this interval (default ${TRACEROUTE_RATE_LIMIT_MS})`,
        },
      },
    },
    log: logSection,
  },
});

interface SimCliOptions extends ServiceCliOptions {
  nodes?: number;
  rate?: number;
  seed?: number;
  host?: string;
  port?: number;
  replay?: string;
  loop?: boolean;
  pty?: string | true;
  hostileNames?: boolean;
  debugLog?: boolean;
  center?: [number, number];
  traceDelay?: [number, number];
  traceRateLimit?: number;
}

const int = (what: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || n < min || n > max)
    throw new InvalidArgumentError(`${what} must be a whole number from ${min} to ${max}`);
  return n;
};
const nonNegative = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number >= 0');
  return n;
};
const pair = (what: string, check: (a: number, b: number) => boolean) => (v: string) => {
  const parts = v.split(',').map((x) => Number(x.trim()));
  if (parts.length !== 2 || parts.some((x) => !Number.isFinite(x)) || !check(parts[0]!, parts[1]!))
    throw new InvalidArgumentError(`expected ${what}`);
  return parts as [number, number];
};

export function register(program: Command): void {
  const cmd = program
    .command('sim')
    .description(
      'run a virtual Meshtastic mesh that speaks the radio stream API over TCP (and optionally a serial PTY), so agents and the whole pipeline run without hardware',
    )
    .option(
      '-n, --nodes <n>',
      `nodes in the mesh, the gateway included (default: ${DEFAULTS.nodes})`,
      int('nodes', MIN_NODES, MAX_NODES),
    )
    .option(
      '-r, --rate <packets/s>',
      `live packets per second, all ports together; 0 = quiet (default: ${DEFAULTS.rate})`,
      nonNegative,
    )
    .option(
      '-s, --seed <n>',
      `same seed, same mesh and packet sequence (default: ${DEFAULTS.seed})`,
      int('seed', 0, 0xffffffff),
    )
    .option('-H, --host <address>', `address to listen on (default: ${DEFAULTS.host})`)
    .option('-p, --port <port>', `TCP port; 0 = any free port (default: ${DEFAULT_TCP_PORT})`, int('port', 0, 65535))
    .option(
      '--replay <file>',
      'replay a capture (MeshPacket JSON lines or base64 ServiceEnvelopes, as in shared/fixtures/real) instead of generating traffic',
    )
    .option('--loop', 'with --replay: start over at the end of the capture')
    .option(
      '--pty [path]',
      'also expose the radio as a serial device (a PTY made by socat); prints its path (default: <tmp>/mmm-sim-<port>.tty)',
    )
    .option('--hostile-names', 'give one node the name <img src=x onerror=alert(1)> to test escaping downstream')
    .option(
      '--center <lat,lon>',
      'centre of the mesh (default: 52.52,13.405, Berlin)',
      pair('lat,lon', (a, b) => Math.abs(a) <= 90 && Math.abs(b) <= 180),
    )
    .option(
      '--trace-delay <min,max>',
      'traceroute replies arrive after this many ms (default: 2000,8000)',
      pair('min,max in ms', (a, b) => a >= 0 && b >= a),
    )
    .option(
      '--trace-rate-limit <ms>',
      `accept one traceroute per this many ms, drop the rest (default: ${TRACEROUTE_RATE_LIMIT_MS})`,
      int('trace rate limit', 0, 86_400_000),
    )
    .addHelpText(
      'after',
      `
The first node is the gateway: the radio clients talk to. It answers want_config_id with its node database,
config, module config and channels (LongFast with the default key, and a private channel "Ops" whose traffic
appears only encrypted), then streams live packets of every port, acknowledges want_ack packets and answers
traceroutes as its topology dictates. Several clients may connect at once.

Examples:
  mmm sim                                   # 20 nodes on 127.0.0.1:4403, 2 packets/s
  mmm sim --nodes 60 --rate 50 --seed 7     # a bigger, busier mesh
  mmm sim --pty /tmp/ttyMESH                # plus a serial device for serial agents
  mmm sim --replay shared/fixtures/real/potato-mesh_mesh_udp_capture.jsonl --loop`,
    );
  for (const [flags, desc] of serviceOptions) cmd.addOption(new Option(flags, desc));
  cmd.action((opts: SimCliOptions) => runService(opts, () => run(opts)));
}

async function run(opts: SimCliOptions): Promise<void> {
  const cfg = loadConfig(simConfigSpec, opts.config);
  const s = cfg.sim;
  const log = createLogger({ name: 'sim', level: opts.logLevel ?? cfg.log.level, file: opts.logFile ?? cfg.log.file });
  const ptyOpt = opts.pty ?? s.pty;
  const sim = await startSimulator({
    nodes: opts.nodes ?? s.nodes,
    rate: opts.rate ?? s.rate,
    seed: opts.seed ?? s.seed,
    host: opts.host ?? s.host,
    port: opts.port ?? s.port ?? DEFAULT_TCP_PORT,
    replay: opts.replay ?? s.replay,
    loop: opts.loop ?? s.loop,
    hostileNames: opts.hostileNames ?? s.hostile_names,
    debugLog: opts.debugLog ?? s.debug_log,
    // A long-running simulator must not remember every packet id it ever sent.
    trackIds: false,
    center: opts.center,
    traceDelayMs: opts.traceDelay,
    traceRateLimitMs: opts.traceRateLimit ?? s.trace_rate_limit_ms,
    log,
  });
  const shutdown = new Shutdown(log).add('simulator', () => sim.stop()).listen();
  const what = sim.capture
    ? `replaying ${sim.capture.packets.length} packets${opts.loop ? ' in a loop' : ''}`
    : `${sim.nodes.length} nodes`;
  process.stdout.write(
    `mmm sim: Meshtastic stream API on ${sim.host}:${sim.port} (gateway ${nodeId(sim.myNodeNum)}, ${what})\n`,
  );
  if (ptyOpt) {
    try {
      const pty = await sim.startPty(typeof ptyOpt === 'string' ? ptyOpt : undefined);
      process.stdout.write(`mmm sim: serial device ${pty.path}\n`);
    } catch (err) {
      await shutdown.run();
      throw err;
    }
  }
}
