import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));

/**
 * An `mmm <command>` child process as an operator runs it (from source, as `MMM_FROM_SOURCE=1 mmm` does), killed by
 * the pid in its --pid-file and started again with the same config.
 */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private out = '';
  /** Values parsed from the readiness log line (e.g. the API's port). */
  readyLine: Record<string, unknown> = {};
  starts = 0;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly config: string,
    readonly pidFile: string,
    /** The log message that says the service is up. */
    private readonly readyMsg: string,
  ) {}

  get running(): boolean {
    const c = this.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** The last 8 KB the process wrote. */
  get log(): string {
    return this.out;
  }

  async start(timeoutMs = 90_000): Promise<void> {
    rmSync(this.pidFile, { force: true });
    this.starts++;
    // What bin/mmm.js runs from a source checkout, without its extra launcher process: one node start less per
    // restart, which is most of a restart's time on a busy two-core box.
    const child = spawn(
      process.execPath,
      [
        '--conditions=development',
        '--import',
        'tsx',
        'services/cli/src/main.ts',
        this.command,
        '-c',
        this.config,
        '--pid-file',
        this.pidFile,
        '--log-level',
        'info',
      ],
      { cwd: REPO, env: { ...process.env, MMM_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    let buf = '';
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`${this.name} not up after ${timeoutMs} ms:\n${this.out}`)),
        timeoutMs,
      );
      const onData = (d: Buffer) => {
        const text = d.toString();
        this.out = (this.out + text).slice(-8192);
        buf += text;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
          if (!line.includes(`"${this.readyMsg}"`)) continue;
          try {
            this.readyLine = JSON.parse(line) as Record<string, unknown>;
          } catch {
            // a non-JSON log line: the message was seen, nothing to parse
          }
          clearTimeout(timer);
          ok();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        fail(new Error(`${this.name} exited (${code ?? signal}) before it was up:\n${this.out}`));
      });
    });
  }

  /** kill -9 by the pid the process wrote itself. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const pid = Number(readFileSync(this.pidFile, 'utf8').trim());
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(pid, 'SIGKILL');
    await gone;
  }

  /** Ends the process at once (test teardown). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.kill('SIGTERM');
    await gone;
    clearTimeout(force);
  }
}
