import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, requireBinary, ServerProcess } from './proc.js';

const execFileP = promisify(execFile);

export interface MosquittoOptions {
  /** Extra lines appended to mosquitto.conf (users, TLS…). */
  extraConfig?: string;
  /** Listen on this port (a restarted broker must keep its port); a free one by default. */
  port?: number;
}

export interface MosquittoServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  get pid(): number | undefined;
  readonly process: ServerProcess;
  /**
   * Publishes with Debian's `mosquitto_pub` (a client nobody here wrote). `file` sends a file's bytes as one message
   * (`-f`); `lines` sends each line of stdin as a message (`-l`).
   */
  pub(topic: string, message: { file: string } | { text: string } | { lines: string }, qos?: 0 | 1): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

/** Debian installs the broker in /usr/sbin, which is not on an ordinary user's PATH. */
function mosquittoBinary(): string {
  if (existsSync('/usr/sbin/mosquitto')) return '/usr/sbin/mosquitto';
  return requireBinary('mosquitto', 'mosquitto');
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** Starts a real Mosquitto broker on a free loopback port, anonymous access, no persistence. */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoServer> {
  const binary = mosquittoBinary();
  const pubBinary = requireBinary('mosquitto_pub', 'mosquitto-clients');
  const dir = mkdtempSync(join(tmpdir(), 'mmm-mosquitto-'));
  const port = opts.port ?? (await freePort());
  const configFile = join(dir, 'mosquitto.conf');
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    // The default in-flight and queued limits of 2.0 (20 / 1000) are far below a benchmark burst.
    'max_queued_messages 1000000',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    opts.extraConfig ?? '',
  ];
  writeFileSync(configFile, `${lines.filter(Boolean).join('\n')}\n`);
  const proc = new ServerProcess('mosquitto', binary, ['-c', configFile], () => tcpOpen(port));
  try {
    await proc.start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return proc.pid;
    },
    process: proc,
    pub: async (topic, message, qos = 1) => {
      const args = ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-q', String(qos)];
      if ('file' in message) args.push('-f', message.file);
      else if ('text' in message) args.push('-m', message.text);
      else args.push('-l');
      const child = execFileP(pubBinary, args, { maxBuffer: 16 * 1024 * 1024 });
      if ('lines' in message) child.child.stdin?.end(message.lines);
      await child;
    },
    kill: (signal = 'SIGKILL') => proc.kill(signal),
    restart: async () => {
      await proc.stop();
      await proc.start();
    },
    stop: () => proc.stop(),
    dispose: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
