import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Something `mmm up` cannot start without; the message says what to do. Exit code 1. */
export class PreflightError extends Error {
  override readonly name = 'PreflightError';
}

/** The nats-server binary and its version, or a message naming the Debian package and its install command. */
export function findNatsServer(): { path: string; version: [number, number] } {
  let path: string;
  try {
    path = execFileSync('/bin/sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).trim();
  } catch (cause) {
    throw new PreflightError(
      'nats-server is not installed. It is the Debian package "nats-server"; install it with:\n  sudo apt-get update && sudo apt-get install -y nats-server\n(npm start installs it by itself when run as root.)',
      { cause },
    );
  }
  const out = execFileSync(path, ['--version'], { encoding: 'utf8' });
  const m = /v?(\d+)\.(\d+)/.exec(out);
  return { path, version: m ? [Number(m[1]), Number(m[2])] : [0, 0] };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One `mmm up` per data directory: two would share nats stores and SQLite files. Returns a release function. */
export function lockDataDir(lockFile: string): () => void {
  mkdirSync(dirname(lockFile), { recursive: true });
  if (existsSync(lockFile)) {
    const pid = Number(readFileSync(lockFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new PreflightError(
        `another mmm up (pid ${pid}) is running with this data directory; stop it first (kill ${pid})`,
      );
    }
  }
  writeFileSync(lockFile, `${process.pid}\n`);
  return () => rmSync(lockFile, { force: true });
}
