import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ALERT_BUCKETS, type AlertEvent, alertKeys, alertSubjects } from '@mmm/schemas';
import { waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser.js';
import { ensureBuilt } from './build.js';
import { type Stack, startStack } from './stack.js';

// The whole path of an alert, in Chromium: the simulator drains a node's battery, the agent publishes its telemetry,
// the hub's alerts service (started by mmm up) fires, the API forwards the transition to the live feed, and the
// Alerts page shows it without a reload; charged again, it resolves.

let stack: Stack;
let browser: Browser;
let nc: NatsConnection;
const published: AlertEvent[] = [];
/** What a real HTTP receiver got from the alerts service (mmm up --alerts-webhook): `<alert id>:<notification>`. */
const hooked: string[] = [];
let hook: Server;
const RULE = 'bat-now';

async function rules(): Promise<string> {
  const r = await fetch(`${stack.url}/api/alerts/rules`);
  return r.ok ? r.text() : '';
}

beforeAll(async () => {
  browser = await launchChromium();
  await ensureBuilt();
  hook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { notification: string; alert: AlertEvent };
      hooked.push(`${body.alert.id}:${body.notification}`);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  stack = await startStack({ rate: 4, alertsWebhook: hookUrl });
  nc = await connect({ servers: stack.natsUrl });
  const sub = nc.subscribe(alertSubjects.all);
  void (async () => {
    for await (const m of sub) published.push(m.json<AlertEvent>());
  })();
  // mmm up's alerts service runs its default rules; a rule with no hold time is added at run time, as the API does.
  await waitFor('the default rules', async () => (await rules()).includes('battery-low'), 120_000, 500);
  const control = await nc.jetstream().views.kv(ALERT_BUCKETS.control, { bindOnly: true });
  await control.put(
    alertKeys.rule(RULE),
    JSON.stringify({ name: RULE, kind: 'battery_low', threshold: 20, hysteresis: 5, duration: 0 }),
  );
  await waitFor('the run-time rule in force', async () => (await rules()).includes(RULE), 60_000, 500);
});

/** The webhook got the alert's firing and its resolving, once each and in that order. */
async function toldOnce(id: string): Promise<void> {
  await waitFor('the webhook told of both', () => hooked.includes(`${id}:resolved`), 30_000);
  expect(hooked.filter((h) => h.startsWith(`${id}:`))).toEqual([`${id}:firing`, `${id}:resolved`]);
}

async function addRule(rule: Record<string, unknown> & { name: string }): Promise<void> {
  const control = await nc.jetstream().views.kv(ALERT_BUCKETS.control, { bindOnly: true });
  await control.put(alertKeys.rule(rule.name), JSON.stringify(rule));
  await waitFor(`rule ${rule.name} in force`, async () => (await rules()).includes(rule.name), 60_000, 500);
}

afterAll(async () => {
  await nc?.close();
  await browser?.close();
  await stack?.stop();
  hook?.closeAllConnections();
  await new Promise((r) => hook?.close(r));
});

async function open(path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(`${stack.url}${path}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('[data-testid="live-state"].open', { timeout: 60_000 });
  return { page, errors };
}

describe('alerts in the web app', () => {
  it('a drained battery fires on the Alerts page, badge and node page live, and resolves when charged', async () => {
    const node = stack.sim.nodes.find(
      (n) => n.num !== stack.sim.myNodeNum && n.batteryLevel >= 30 && n.batteryLevel <= 100,
    )!;
    const w = await open('/alerts');
    await w.page.waitForSelector('[data-testid="alerts-firing"]');

    // The rule's first evaluation only establishes state: until it has run, a drain is not news. Drain until the
    // firing is published (each round charges first, so each drain is a new episode).
    const fired = () => published.find((a) => a.rule === RULE && a.node_id === node.id && a.state === 'firing');
    await waitFor(
      'the drained battery fires',
      async () => {
        if (fired()) return true;
        stack.sim.setBattery(node, 90);
        stack.sim.setBattery(node, 5);
        await waitFor('published', fired, 10_000, 200).catch(() => undefined);
        return fired() !== undefined;
      },
      120_000,
      100,
    );
    const id = fired()!.id;
    // On the page without a reload (the live feed), with the badge counting it.
    await w.page.waitForSelector(`[data-testid="alerts-firing"] tr[data-alert-id="${id}"]`, { timeout: 30_000 });
    expect(await w.page.textContent(`[data-testid="alerts-firing"] tr[data-alert-id="${id}"]`)).toContain(
      'battery 5 %',
    );
    const badge = Number(await w.page.textContent('[data-testid="alerts-badge"]'));
    expect(badge).toBeGreaterThanOrEqual(1);

    const n = await open(`/nodes/${encodeURIComponent(node.id)}`);
    await n.page.waitForSelector('[data-testid="node-alert"]', { timeout: 30_000 });
    expect(await n.page.textContent('[data-testid="node-alert"]')).toContain(RULE);
    await n.page.close();

    stack.sim.setBattery(node, 95);
    await w.page.waitForSelector(`[data-testid="alerts-recent"] tr[data-alert-id="${id}"]`, { timeout: 60_000 });
    expect(await w.page.$(`[data-testid="alerts-firing"] tr[data-alert-id="${id}"]`)).toBeNull();
    expect(published.filter((a) => a.id === id).map((a) => a.state)).toEqual(['firing', 'resolved']);
    // And at the webhook, each once.
    await toldOnce(id);
    expect(w.errors).toEqual([]);
    await w.page.close();
  });

  it('a node the simulator silences fires "node silent" at its deadline on the Alerts page, and resolves when heard', async () => {
    const QUIET = 'quiet-now';
    const HOLD_S = 10;
    const node = stack.sim.nodes.find((n) => n.num !== stack.sim.myNodeNum && n.batteryLevel <= 100)!;
    const heard = () => stack.sim.setBattery(node, 80);
    // Heard every second while the rule is added, so its first evaluation sees a node that is not silent.
    const keepHeard = setInterval(heard, 1000);
    try {
      await addRule({ name: QUIET, kind: 'node_silent', nodes: [node.id], duration: HOLD_S });
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      clearInterval(keepHeard);
    }
    const w = await open('/alerts');
    await w.page.waitForSelector('[data-testid="alerts-firing"]');
    heard();
    const silencedAt = Date.now();
    stack.sim.setSilent(node, true);
    const ofRule = () => published.filter((a) => a.rule === QUIET && a.node_id === node.id);
    const firing = await waitFor('node silent fires', () => ofRule().find((a) => a.state === 'firing'), 90_000, 200);
    // Its deadline is the last packet heard plus the hold: the silence caused it, not a quiet spell before.
    expect(firing.since).toBeGreaterThanOrEqual(silencedAt + HOLD_S * 1000 - 2000);
    expect(firing.since).toBeLessThanOrEqual(silencedAt + HOLD_S * 1000 + 3000);
    await w.page.waitForSelector(`[data-testid="alerts-firing"] tr[data-alert-id="${firing.id}"]`, {
      timeout: 30_000,
    });

    stack.sim.setSilent(node, false);
    heard();
    await w.page.waitForSelector(`[data-testid="alerts-recent"] tr[data-alert-id="${firing.id}"]`, {
      timeout: 60_000,
    });
    expect(ofRule().map((a) => a.state)).toEqual(['firing', 'resolved']);
    await toldOnce(firing.id);
    expect(w.errors).toEqual([]);
    await w.page.close();
  });

  it('an unplugged radio fires "radio disconnected" for the agent on the Alerts page, and resolves when it is back', async () => {
    const RADIO = 'radio-now';
    await addRule({ name: RADIO, kind: 'radio_disconnected', duration: 2 });
    await new Promise((r) => setTimeout(r, 2000));
    const w = await open('/alerts');
    await w.page.waitForSelector('[data-testid="alerts-firing"]');
    const ofRule = () => published.filter((a) => a.rule === RADIO);
    const unpluggedAt = Date.now();
    stack.sim.unplug();
    let firing: AlertEvent;
    try {
      firing = await waitFor('radio disconnected fires', () => ofRule().find((a) => a.state === 'firing'), 60_000, 200);
    } finally {
      stack.sim.plugIn();
    }
    expect(firing.since).toBeGreaterThanOrEqual(unpluggedAt - 1000);
    expect(firing.site).toBe('e2e');
    await w.page.waitForSelector(`[data-testid="alerts-firing"] tr[data-alert-id="${firing.id}"]`, {
      timeout: 30_000,
    });
    // The agent reconnects with backoff; its status says connected at once, which resolves the alert.
    await w.page.waitForSelector(`[data-testid="alerts-recent"] tr[data-alert-id="${firing.id}"]`, {
      timeout: 90_000,
    });
    expect(ofRule().map((a) => a.state)).toEqual(['firing', 'resolved']);
    await toldOnce(firing.id);
    expect(w.errors).toEqual([]);
    await w.page.close();
  });
});
