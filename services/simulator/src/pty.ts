import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@mmm/common';

export interface PtyBridge {
  /** The serial device path (a symlink to the PTY socat created). */
  readonly path: string;
  stop(): Promise<void>;
}

export class PtyError extends Error {
  override readonly name = 'PtyError';
}

export interface PtyOptions {
  host: string;
  port: number;
  path?: string;
  log?: Logger;
}

const READY_TIMEOUT_MS = 5_000;
const RESPAWN_DELAY_MS = 200;

export function defaultPtyPath(port: number): string {
  return join(tmpdir(), `mmm-sim-${port}.tty`);
}

/**
 * A serial path to the simulator: socat makes a PTY (raw, no echo) and, once a program opens it, connects it to the TCP
 * port. Like a radio on a USB port, the link outlives the program: closing and reopening the device keeps the same
 * connection (the reader may first see the tail of older frames, which a deframer skips). Should socat end anyway, it
 * is started again so the path stays usable.
 */
export async function startPtyBridge(opts: PtyOptions): Promise<PtyBridge> {
  const path = opts.path ?? defaultPtyPath(opts.port);
  if (existsSync(path) && !lstatSync(path).isSymbolicLink()) {
    throw new PtyError(`${path} exists and is not a symlink left by socat; choose another --pty path`);
  }
  let child: ChildProcess | undefined;
  let stopped = false;
  let output = '';

  const spawnOnce = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const proc = spawn('socat', [`pty,raw,echo=0,wait-slave,link=${path}`, `tcp:${opts.host}:${opts.port}`], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child = proc;
      proc.stderr?.on('data', (d: Buffer) => {
        output = (output + d.toString()).slice(-4096);
      });
      proc.once('error', (err) => {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        reject(
          new PtyError(
            missing
              ? 'socat is not installed; install it with: sudo apt-get install -y socat'
              : `socat failed: ${err.message}`,
            { cause: err },
          ),
        );
      });
      proc.once('exit', (code, signal) => {
        if (stopped) return;
        opts.log?.warn({ code, signal, output }, 'socat ended; starting it again');
        setTimeout(() => {
          if (!stopped) spawnOnce().catch((err) => opts.log?.error({ err }, 'cannot restart the PTY bridge'));
        }, RESPAWN_DELAY_MS).unref();
      });
      // socat creates the PTY and the link before it waits for the slave to be opened.
      const deadline = Date.now() + READY_TIMEOUT_MS;
      const poll = () => {
        if (existsSync(path)) return resolve();
        if (proc.exitCode !== null || Date.now() > deadline)
          return reject(new PtyError(`socat did not create ${path}: ${output.trim()}`));
        setTimeout(poll, 20);
      };
      poll();
    });

  await spawnOnce();
  opts.log?.info({ path }, 'serial PTY ready');
  return {
    path,
    stop: async () => {
      stopped = true;
      const proc = child;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise<void>((r) => proc.once('exit', () => r()));
        proc.kill('SIGTERM');
        await gone;
      }
    },
  };
}
