import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@mmm/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { RadioClient } from './test-radio-client.js';

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const MAIN = join(ROOT, 'services/cli/src/main.ts');
const procs: ChildProcess[] = [];
const dirs: string[] = [];

function mmm(args: string[]) {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(child);
  const out = { stdout: '', stderr: '', code: undefined as number | null | undefined };
  child.stdout!.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
  child.on('exit', (code) => (out.code = code));
  return { child, out };
}

afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'mmm-sim-cli-'));
  dirs.push(d);
  return d;
}

describe('mmm sim', () => {
  it('prints where it listens and its serial device, serves clients and stops cleanly on SIGTERM', async () => {
    const tty = join(tmp(), 'ttySIM');
    const { child, out } = mmm([
      'sim',
      '--port',
      '0',
      '--nodes',
      '6',
      '--rate',
      '20',
      '--seed',
      '4',
      '--pty',
      tty,
      '--log-level',
      'warn',
    ]);
    const port = await waitFor(
      'the listen line',
      () => Number(/on 127\.0\.0\.1:(\d+)/.exec(out.stdout)?.[1]) || undefined,
      30_000,
    );
    await waitFor('the serial line', () => out.stdout.includes(`serial device ${tty}`), 10_000);
    expect(out.stdout).toMatch(/gateway !([0-9a-f]{8}), 6 nodes/);
    const c = await RadioClient.tcp(port);
    const seq = await c.wantConfig(99);
    expect(seq.filter((f) => f.payloadVariant.case === 'nodeInfo')).toHaveLength(6);
    await c.waitForPackets('live packets', (p) => p.length >= 5);
    c.close();
    child.kill('SIGTERM');
    await waitFor('exit', () => out.code !== undefined, 15_000);
    expect(out.code).toBe(0);
    expect(existsSync(tty)).toBe(false);
  });

  it('rejects bad options and unknown config keys with a clear message', async () => {
    const ini = join(tmp(), 'sim.ini');
    writeFileSync(ini, '[sim]\nnodes = 5\nspeed = 3\n');
    const bad = mmm(['sim', '--nodes', '1']);
    const cfg = mmm(['sim', '--config', ini]);
    await waitFor('both to exit', () => bad.out.code !== undefined && cfg.out.code !== undefined, 40_000);
    expect(bad.out.code).not.toBe(0);
    expect(bad.out.stderr).toMatch(/nodes must be a whole number from 2/);
    expect(cfg.out.code).toBe(2);
    expect(cfg.out.stderr).toMatch(/speed/);
  });
});
