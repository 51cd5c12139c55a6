import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';

export interface ChildSpec {
  /** Short name shown in the table and messages, e.g. "ingest". */
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: Record<string, string>;
  /** Working directory (the data directory: relative paths in configs land there). */
  cwd?: string;
  /** Shown in the table: where it can be reached. */
  address: string;
  /** Resolves true once the service does its work; polled until the start timeout. */
  ready: () => Promise<boolean>;
  /** One node of a three-node hub: its loss is reported and the stack carries on while two remain. */
  hubNode?: boolean;
}

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** Does a process group still have members? (signal 0 tests without sending.) */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One service process. It runs in its own process group (so Ctrl-C in the terminal reaches only `mmm up`, which
 * stops the services in order) with stdout and stderr appended to its log file.
 */
export class Child {
  private proc: ChildProcess | undefined;
  private exitInfo: Exit | undefined;
  private readonly exited: Promise<Exit>;
  private resolveExit!: (e: Exit) => void;
  /** Set when we asked it to stop: an exit then is not a crash. */
  stopping = false;
  private logOffset = 0;

  constructor(readonly spec: ChildSpec) {
    this.exited = new Promise((r) => {
      this.resolveExit = r;
    });
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get exit(): Exit | undefined {
    return this.exitInfo;
  }

  get done(): Promise<Exit> {
    return this.exited;
  }

  start(): void {
    try {
      this.logOffset = statSync(this.spec.logFile).size;
    } catch {
      this.logOffset = 0;
    }
    const fd = openSync(this.spec.logFile, 'a');
    try {
      this.proc = spawn(this.spec.command, this.spec.args, {
        stdio: ['ignore', fd, fd],
        detached: true,
        cwd: this.spec.cwd,
        env: { ...process.env, ...this.spec.env },
      });
    } finally {
      closeSync(fd);
    }
    this.proc.once('error', (err) => {
      this.exitInfo ??= { code: 127, signal: null };
      this.resolveExit(this.exitInfo);
      void err;
    });
    this.proc.once('exit', (code, signal) => {
      this.exitInfo = { code, signal };
      this.resolveExit(this.exitInfo);
    });
  }

  /** The log lines this run wrote so far, the last `n`. */
  tail(n = 20): string {
    try {
      const text = readFileSync(this.spec.logFile, 'utf8').slice(this.logOffset);
      return text.split('\n').filter(Boolean).slice(-n).join('\n');
    } catch {
      return '';
    }
  }

  /**
   * SIGTERM to the process itself (a wrapper forwards it; signalling the whole group would deliver it twice and
   * the second would skip the graceful path), then after `timeoutMs` SIGKILL to the whole group. Resolves when
   * no process of the group is left.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    const pid = this.proc?.pid;
    if (pid === undefined) return;
    if (!this.exitInfo) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
      if ((await Promise.race([this.exited, timer])) === 'timeout') {
        process.stderr.write(`mmm up: ${this.spec.name} did not stop within ${timeoutMs / 1000} s; killing it\n`);
      }
    }
    await this.killGroup();
  }

  /** SIGKILL whatever is left of the group (a wrapper's child, a straggler) and wait until it is empty. */
  async killGroup(): Promise<void> {
    const pid = this.proc?.pid;
    if (pid === undefined) return;
    for (let i = 0; i < 50 && groupAlive(pid); i++) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // raced with its exit
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
