import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type NatsServer, startNatsServer, waitFor } from '@mmm/testkit';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionStreams } from '../testing.js';

// A real `mmm api` process: rotation by SIGHUP to its pid, with the file watch off so only the signal can reload.

const MAIN = fileURLToPath(new URL('../../../cli/src/main.ts', import.meta.url));
const tok = () => randomBytes(24).toString('base64url');

describe('mmm api: tokens rotated by SIGHUP', () => {
  let nats: NatsServer;
  let proc: ChildProcess;
  let base: string;
  let output = '';
  const dir = mkdtempSync(join(tmpdir(), 'mmm-api-reload-'));
  const tokens = join(dir, 'tokens');
  const OLD = tok();
  const NEW = tok();
  const METRICS = tok();

  beforeAll(async () => {
    nats = await startNatsServer({ name: 'api-reload' });
    const nc = await connect({ servers: nats.url });
    await provisionStreams(nc);
    await nc.close();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    writeFileSync(tokens, `read ${OLD}\nmetrics ${METRICS}\n`);
    writeFileSync(
      join(dir, 'api.ini'),
      `[server]\nport = ${port}\ninstance_id = reload\n[nats]\nurl = ${nats.url}\n[database]\npath = ${join(dir, 'api.db')}\n[history]\nsqlite_path = ${join(dir, 'history.db')}\n[web]\ndir = ${join(dir, 'web')}\n[auth]\ntokens_file = ${tokens}\nwatch = false\nmetrics = token\n`,
    );
    proc = spawn(
      process.execPath,
      ['--conditions=development', '--import', 'tsx', MAIN, 'api', '--config', join(dir, 'api.ini')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    for (const stream of [proc.stdout, proc.stderr])
      stream?.on('data', (b) => {
        output += String(b);
      });
    await waitFor(
      'api listening',
      async () => {
        if (proc.exitCode !== null) throw new Error(`mmm api exited ${proc.exitCode}: ${output}`);
        return (await fetch(`${base}/healthz`).catch(() => undefined))?.ok;
      },
      60_000,
      250,
    );
  }, 90_000);

  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const status = async (token: string) =>
    (await fetch(`${base}/api/agents`, { headers: { authorization: `Bearer ${token}` } })).status;
  const reloads = async () => {
    const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } })).text();
    return Number(/^mmm_api_auth_reloads_total\{result="ok"[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
  };

  it('after SIGHUP the old token is refused and the new one accepted; the process lives on', async () => {
    expect(await status(OLD)).toBe(200);
    expect(await status(NEW)).toBe(401);
    writeFileSync(tokens, `read ${NEW}\nmetrics ${METRICS}\n`);
    expect(await reloads()).toBe(0);
    process.kill(proc.pid as number, 'SIGHUP');
    await waitFor('SIGHUP reload', async () => (await reloads()) === 1);
    expect(await status(NEW)).toBe(200);
    expect(await status(OLD)).toBe(401);
    // A second signal with a broken file: refused, the tokens in force stay.
    writeFileSync(tokens, `reed ${OLD}\nmetrics ${METRICS}\n`);
    process.kill(proc.pid as number, 'SIGHUP');
    await waitFor('error logged', () => output.includes('tokens file not reloaded') || undefined);
    expect(await status(NEW)).toBe(200);
    expect(await status(OLD)).toBe(401);
    expect(proc.exitCode).toBeNull();
  });
});
