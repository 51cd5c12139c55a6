import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '@mmm/common';
import { describe, expect, it } from 'vitest';
import { createConfigText } from './cli.js';
import { apiConfigSpec } from './config.js';
import { keyMap } from './main.js';

const MAIN = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url));

function mmm(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=development', '--import', 'tsx', MAIN, ...args],
      { timeout: 60_000 },
      (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

describe('mmm api configuration', () => {
  it('--create-config writes a config that loads, with one random key bound to each agent id', () => {
    const cfg = parseConfig(apiConfigSpec, createConfigText(['gw-1', 'gw-2']), 'sample.ini', { env: {} });
    const keys = keyMap(cfg);
    expect([...keys.values()].sort()).toEqual(['gw-1', 'gw-2']);
    for (const k of keys.keys()) expect(k).toMatch(/^[0-9a-f]{32}$/);
    expect(cfg.server).toMatchObject({ host: '127.0.0.1', port: 8082 });
    expect(createConfigText(['gw-1'])).not.toBe(createConfigText(['gw-1']));
  });

  it('refuses a key shared by two agents and an agent id that is not a subject token', () => {
    const cfg = parseConfig(apiConfigSpec, '[api_keys]\na = same-key-123\nb = same-key-123\n', 'x.ini', { env: {} });
    expect(() => keyMap(cfg)).toThrow(/one agent only/);
    const bad = parseConfig(apiConfigSpec, '[api_keys]\na.b = key-0123456789\n', 'x.ini', { env: {} });
    expect(() => keyMap(bad)).toThrow(/x.ini \[api_keys\] a.b/);
  });

  it('exits 2 naming file, section and key for an unknown key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmm-api-cli-'));
    try {
      writeFileSync(join(dir, 'api.ini'), '[server]\nprot = 1\n');
      const r = await mmm(['api', '--config', join(dir, 'api.ini')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('[server] prot: unknown key');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
