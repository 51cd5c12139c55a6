import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALERT_BUCKETS, type AlertEvent, alertKeys, alertSubjects } from '@mmm/schemas';
import { waitFor } from '@mmm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WS_PROTOCOL, WS_TOKEN_PREFIX } from '../http/auth/access.js';
import { type Stack, startStack } from '../testing.js';

// The API's alert routes against a real nats-server: it reads the alerts service's public bucket (written here as
// the service writes it) and writes operators' changes to the control bucket, which the service follows.

const tok = () => randomBytes(24).toString('base64url');
const READ = tok();
const WRITE = tok();

const alert = (o: Partial<AlertEvent> & Pick<AlertEvent, 'id' | 'state' | 'node_id'>): AlertEvent => ({
  v: 1,
  kind: 'alert',
  rule: 'bat',
  rule_kind: 'battery_low',
  site: 'berlin',
  agent_id: 'gw-1',
  since: 1_000,
  resolved_at: o.state === 'resolved' ? 5_000 : null,
  summary: 'battery low',
  acknowledged: false,
  silenced_until: null,
  at: o.state === 'resolved' ? 5_000 : 2_000,
  ...o,
});

describe('alert routes', () => {
  let s: Stack;
  const dir = mkdtempSync(join(tmpdir(), 'mmm-api-alerts-'));
  const call = async (method: string, path: string, token = READ, body?: unknown) => {
    const res = await fetch(`${s.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const control = async (key: string) => {
    const kv = await s.nc.jetstream().views.kv(ALERT_BUCKETS.control, { bindOnly: true });
    const e = await kv.get(key);
    return e?.operation === 'PUT' ? e.json<Record<string, unknown>>() : undefined;
  };

  beforeAll(async () => {
    const tokens = join(dir, 'tokens');
    writeFileSync(tokens, `read ${READ}\nread,alerts-write ${WRITE}\n`);
    s = await startStack(`[auth]\ntokens_file = ${tokens}\n`);
  }, 60_000);
  afterAll(async () => {
    await s?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists nothing and refuses writes with 503 until the alerts buckets exist', async () => {
    expect(await call('GET', '/api/alerts')).toEqual({ status: 200, json: { alerts: [] } });
    expect(await call('GET', '/api/alerts/rules')).toEqual({ status: 200, json: { rules: [] } });
    const r = await call('POST', '/api/alerts/rules', WRITE, { name: 'x', kind: 'new_node' });
    expect(r.status).toBe(503);
    expect(String(r.json.message)).toContain(ALERT_BUCKETS.control);
  });

  it('lists alerts firing first, filtered by state, rule and node', async () => {
    const js = s.nc.jetstream();
    const kv = await js.views.kv(ALERT_BUCKETS.alerts, { history: 1 });
    await js.views.kv(ALERT_BUCKETS.control, { history: 1 });
    await kv.put(
      alertKeys.alert('bat.1.a'),
      JSON.stringify(alert({ id: 'bat.1.a', state: 'resolved', node_id: '!00000001' })),
    );
    await kv.put(
      alertKeys.alert('bat.2.a'),
      JSON.stringify(alert({ id: 'bat.2.a', state: 'firing', node_id: '!00000002' })),
    );
    await kv.put(
      alertKeys.alert('silent.3.a'),
      JSON.stringify(
        alert({
          id: 'silent.3.a',
          rule: 'silent',
          rule_kind: 'node_silent',
          state: 'firing',
          node_id: '!00000003',
          at: 3_000,
        }),
      ),
    );
    const all = (await call('GET', '/api/alerts')).json.alerts as Record<string, unknown>[];
    expect(all.map((a) => a.id)).toEqual(['silent.3.a', 'bat.2.a', 'bat.1.a']);
    expect(Object.keys(all[0]!).sort()).toEqual(
      [
        'id',
        'rule',
        'state',
        'node_id',
        'site',
        'agent_id',
        'since',
        'resolved_at',
        'summary',
        'acknowledged',
        'silenced_until',
      ].sort(),
    );
    const ids = async (q: string) =>
      ((await call('GET', `/api/alerts?${q}`)).json.alerts as { id: string }[]).map((a) => a.id);
    expect(await ids('state=resolved')).toEqual(['bat.1.a']);
    expect(await ids('rule=bat')).toEqual(['bat.2.a', 'bat.1.a']);
    expect(await ids('node=!00000003')).toEqual(['silent.3.a']);
    expect((await call('GET', '/api/alerts?state=open')).status).toBe(400);
  });

  it('takes rule edits from an alerts-write token only, and a bad rule gets a 400 naming the field', async () => {
    const good = { name: 'low', kind: 'battery_low', threshold: 15, duration: 300 };
    expect((await call('POST', '/api/alerts/rules', READ, good)).status).toBe(403);
    for (const [rule, field] of [
      [{ name: 'x', kind: 'volcano' }, 'kind'],
      [{ name: 'x', kind: 'node_silent', duration: -1 }, 'duration'],
      [{ name: 'x', kind: 'node_silent', nodes: ['1234'] }, 'nodes'],
      [{ name: 'x', kind: 'battery_low' }, 'threshold'],
      [{ name: 'x', kind: 'new_node', treshold: 3 }, 'treshold'],
    ] as const) {
      const r = await call('POST', '/api/alerts/rules', WRITE, rule);
      expect(r.status, JSON.stringify(rule)).toBe(400);
      expect(String(r.json.message)).toContain(`rule field ${field}:`);
    }
    expect((await call('POST', '/api/alerts/rules', WRITE, good)).status).toBe(200);
    expect(await control('rule.low')).toEqual(good);
    expect((await call('DELETE', '/api/alerts/rules/low', WRITE)).status).toBe(200);
    expect(await control('rule.low')).toEqual({ name: 'low', deleted: true });
  });

  it('acknowledges a known alert and adds silences', async () => {
    expect((await call('POST', '/api/alerts/bat.2.a/ack', READ)).status).toBe(403);
    expect((await call('POST', '/api/alerts/nope.1.a/ack', WRITE)).status).toBe(404);
    expect((await call('POST', '/api/alerts/bat.2.a/ack', WRITE)).status).toBe(200);
    expect(await control('ack.bat.2.a')).toMatchObject({ id: 'bat.2.a' });
    const until = Date.now() + 3_600_000;
    const r = await call('POST', '/api/alerts/silences', WRITE, {
      node_id: '!00000002',
      until,
      comment: 'on the bench',
    });
    expect(r.status).toBe(200);
    const id = (r.json.silence as { id: string }).id;
    expect(await control(`silence.${id}`)).toMatchObject({ node_id: '!00000002', until });
    const past = await call('POST', '/api/alerts/silences', WRITE, { rule: 'bat', until: 1 });
    expect([past.status, String(past.json.message)]).toEqual([
      400,
      'silence field until: must be in the future (Unix ms)',
    ]);
    const neither = await call('POST', '/api/alerts/silences', WRITE, { until });
    expect(String(neither.json.message)).toContain('silence field rule');
  });

  it('with [auth] alerts_write = open (what mmm up writes), takes alert writes without a token; otherwise 401', async () => {
    const until = Date.now() + 3_600_000;
    const bare = (x: Stack) =>
      fetch(`${x.url}/api/alerts/silences`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ rule: 'bat', until }),
      });
    expect((await bare(s)).status).toBe(401);
    const open = await startStack('[auth]\nalerts_write = open\n', { nats: s.nats });
    try {
      const r = await bare(open);
      expect(r.status).toBe(200);
      const id = ((await r.json()) as { silence: { id: string } }).silence.id;
      expect(await control(`silence.${id}`)).toMatchObject({ rule: 'bat', until });
    } finally {
      await open.dispose();
    }
  });

  it('forwards alert transitions to the live feed', async () => {
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/api/live`, [WS_PROTOCOL, `${WS_TOKEN_PREFIX}${READ}`]);
    const got: { type: string; alert?: { id: string; state: string } }[] = [];
    ws.on('message', (d) => got.push(JSON.parse(d.toString())));
    await waitFor('hello', () => got.some((m) => m.type === 'hello'));
    const a = alert({ id: 'bat.9.a', state: 'firing', node_id: '!00000009' });
    s.nc.publish(alertSubjects.transition('bat', 'firing'), JSON.stringify(a));
    const m = await waitFor('alert message', () => got.find((x) => x.type === 'alert'));
    expect(m.alert).toMatchObject({ id: 'bat.9.a', state: 'firing' });
    ws.close();
  });
});
