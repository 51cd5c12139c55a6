import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type NatsServer, startNatsServer, waitFor } from '@mmm/testkit';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser.js';
import { DIST, ensureBuilt } from './build.js';

// The built app in Chromium against a real `mmm api` that needs a read token: given once as ?token=, the app keeps
// it, sends it on every REST call and on the live WebSocket (as a subprotocol, never in the URL).

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MMM = join(REPO, 'services/cli/bin/mmm.js');
const TOKEN = randomBytes(24).toString('base64url');

describe('web app with a read token', () => {
  let nats: NatsServer;
  let api: ChildProcess;
  let browser: Browser;
  let url: string;
  let out = '';
  const dir = mkdtempSync(join(tmpdir(), 'mmm-web-token-'));

  beforeAll(async () => {
    browser = await launchChromium();
    await ensureBuilt();
    nats = await startNatsServer({ name: 'web-token' });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'api.ini'),
      `[server]\nport = ${port}\ninstance_id = webtoken\n[nats]\nurl = ${nats.url}\n[database]\npath = ${join(dir, 'api.db')}\n[history]\nsqlite_path = ${join(dir, 'history.db')}\n[web]\ndir = ${DIST}\n[map]\ntile_url = none\n[auth]\nread_tokens = ${TOKEN}\n`,
    );
    api = spawn(process.execPath, [MMM, 'api', '--config', join(dir, 'api.ini'), '--log-level', 'warn'], {
      cwd: REPO,
      env: { ...process.env, MMM_FROM_SOURCE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const s of [api.stdout, api.stderr])
      s?.on('data', (b) => {
        out = (out + String(b)).slice(-8192);
      });
    await waitFor(
      'api listening',
      async () => {
        if (api.exitCode !== null) throw new Error(`mmm api exited ${api.exitCode}: ${out}`);
        return (await fetch(`${url}/healthz`).catch(() => undefined))?.ok;
      },
      90_000,
      250,
    );
  });

  afterAll(async () => {
    await browser?.close();
    if (api && api.exitCode === null) {
      const gone = new Promise((r) => api.once('exit', r));
      api.kill('SIGTERM');
      await gone;
    }
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without a token the API refuses the app; with ?token= once, REST and the live feed work and keep working', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const statuses: number[] = [];
    const sockets: string[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/api/')) statuses.push(r.status());
    });
    page.on('websocket', (ws) => sockets.push(ws.url()));

    await page.goto(`${url}/`, { waitUntil: 'domcontentloaded' });
    await waitFor('a refused API call', () => statuses.includes(401) || undefined);
    expect(statuses.filter((s) => s === 200)).toEqual([]);

    await page.goto(`${url}/agents?token=${TOKEN}`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('live-state').filter({ hasText: 'live' }).waitFor({ timeout: 30_000 });
    // The token left the address bar and is in no WebSocket URL.
    expect(page.url()).toBe(`${url}/agents`);
    expect(sockets.length).toBeGreaterThan(0);
    for (const s of sockets) expect(s).not.toContain(TOKEN);

    // A later visit without ?token= still works: the token is kept in this browser.
    statuses.length = 0;
    await page.goto(`${url}/nodes`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('live-state').filter({ hasText: 'live' }).waitFor({ timeout: 30_000 });
    await waitFor('REST answered', () => statuses.includes(200) || undefined);
    expect(statuses.filter((s) => s === 401 || s === 403)).toEqual([]);
    await ctx.close();
  });
});
