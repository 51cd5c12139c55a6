import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/mmm.js', import.meta.url));
const run = (...args: string[]) =>
  execFileSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, MMM_FROM_SOURCE: '1' } });

describe('mmm', () => {
  it('lists every command in --help', () => {
    const help = run('--help');
    for (const cmd of [
      'up',
      'agent',
      'mqtt',
      'decode',
      'sim',
      'ingest',
      'route-analysis',
      'api',
      'export',
      'import-original',
      'rederive',
      'alerts',
    ]) {
      expect(help).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
    }
  });
  it('prints its version', () => {
    expect(run('--version').trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
  it('rejects an unknown command or option with exit code 2 and a hint', () => {
    for (const args of [['frobnicate'], ['sim', '--no-such-flag']]) {
      let out = '';
      let status = 0;
      try {
        execFileSync(process.execPath, [bin, ...args], {
          encoding: 'utf8',
          stdio: 'pipe',
          env: { ...process.env, MMM_FROM_SOURCE: '1' },
        });
      } catch (err) {
        out = String((err as { stderr?: string }).stderr);
        status = (err as { status: number }).status;
      }
      expect(out).toMatch(/unknown (command 'frobnicate'|option '--no-such-flag')/);
      expect(status).toBe(2);
    }
  });
});
