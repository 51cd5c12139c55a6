import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRegistry, startOpsServer } from './ops-http.js';

describe('ops server', () => {
  it('serves health, readiness and Prometheus metrics', async () => {
    const registry = createRegistry('test');
    const c = new Counter({ name: 'mmm_test_total', help: 'test', registers: [registry] });
    c.inc(3);
    let ready = false;
    const ops = await startOpsServer({ port: 0, registry, ready: () => ready, health: () => ({ lag: 0 }) });
    const base = `http://127.0.0.1:${ops.port}`;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok', lag: 0 });
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/mmm_test_total\{service="test"\} 3/);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    await ops.close();
  });
});
