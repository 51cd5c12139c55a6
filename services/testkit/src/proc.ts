import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A missing server binary: the message names the Debian package that provides it. */
export class MissingBinaryError extends Error {
  override readonly name = 'MissingBinaryError';
}

export function requireBinary(binary: string, aptPackage: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim();
  } catch (cause) {
    throw new MissingBinaryError(
      `${binary} is not installed; install it with: sudo apt-get install -y ${aptPackage} (or run .ci/run, which installs every system package the tests need)`,
      { cause },
    );
  }
}

/** A port that was free a moment ago (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether a port can be bound on 127.0.0.1 right now. */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** The kernel's ephemeral range: outgoing connections take their local ports from it. */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi)) return [lo as number, hi as number];
  } catch {
    // Not Linux: assume the IANA dynamic range.
  }
  return [49152, 65535];
}

/**
 * `count` consecutive ports, all free a moment ago, below the kernel's ephemeral range.
 * For a process that derives ports from a base (`mmm up`: monitor + 1, hub node + 10): ports from
 * `freePort()` lie in the ephemeral range, where a neighbour's outgoing connection (a cluster route,
 * a leaf dialling the hub) may take a derived port before the server binds it.
 */
export async function freePortBlock(count: number): Promise<number[]> {
  const [ephemeralLow] = ephemeralRange();
  const low = 10_000;
  const high = Math.max(low + count + 1, ephemeralLow) - count;
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = low + Math.floor(Math.random() * (high - low));
    const ports = Array.from({ length: count }, (_, i) => base + i);
    let free = true;
    for (const p of ports) {
      if (!(await canBind(p))) {
        free = false;
        break;
      }
    }
    if (free) return ports;
  }
  throw new Error(`no block of ${count} free ports found between ${low} and ${high + count}`);
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`,
  );
}

export async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** A spawned server process that can be stopped, killed by pid and restarted with the same arguments. */
export class ServerProcess {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(
    readonly name: string,
    private readonly binary: string,
    private readonly args: string[],
    private readonly ready: () => Promise<boolean>,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Started and not yet exited. */
  get running(): boolean {
    const child = this.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** The last 8 KB of the process's output, for failure messages. */
  get log(): string {
    return this.output;
  }

  async start(timeoutMs = 20_000): Promise<void> {
    const child = spawn(this.binary, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-8192);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    // An early exit fails the start at once (with the server's own words), not after the timeout.
    const exited = new Promise<never>((_, reject) =>
      child.once('close', (code, signal) =>
        reject(new Error(`${this.name} exited during start (${signal ?? `code ${code}`})`)),
      ),
    );
    exited.catch(() => {});
    try {
      await Promise.race([waitFor(`${this.name} to be ready`, () => this.ready(), timeoutMs), exited]);
    } catch (err) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n--- ${this.name} output ---\n${this.output}`, { cause: err });
    }
  }

  /** Sends a signal and waits until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    await gone;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.kill('SIGTERM');
    clearTimeout(timer);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

/** nats-server's version, e.g. [2, 9, 10]. */
export function natsServerVersion(): [number, number, number] {
  const out = execFileSync(requireBinary('nats-server', 'nats-server'), ['--version'], { encoding: 'utf8' });
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(out);
  if (!m) throw new Error(`cannot read the nats-server version from ${JSON.stringify(out)}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/**
 * `jetstream { sync_interval: always }` (fsync every write) exists from nats-server 2.10; Debian 12 ships 2.9.10,
 * which rejects the key. Configs we generate include it when the server understands it.
 */
export function supportsSyncAlways(): boolean {
  const [major, minor] = natsServerVersion();
  return major > 2 || (major === 2 && minor >= 10);
}
