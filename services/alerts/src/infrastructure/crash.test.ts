import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ALERTS_STREAM } from '@mmm/schemas';
import { freePort, type NatsServer, startNatsServer, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batteryRx } from '../test-events.js';
import { configText, createHubStream, publish, Receiver } from '../test-harness.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const MAIN = join(ROOT, 'services/cli/src/main.ts');
const N1 = 0x00000a01;
const N2 = 0x00000a02;
const N3 = 0x00000a03;
const id = (n: number) => `!${n.toString(16).padStart(8, '0')}`;

/** One real `mmm alerts` process (not the bin wrapper), so kill -9 hits the service itself. */
function spawnAlerts(file: string): { proc: ChildProcess; output: () => string } {
  const proc = spawn(
    process.execPath,
    ['--conditions=development', '--import', 'tsx', MAIN, 'alerts', '--config', file],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MMM_FROM_SOURCE: '1' },
    },
  );
  let out = '';
  proc.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  proc.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  return { proc, output: () => out };
}

const exited = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

async function get(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return await res.text();
  } catch {
    return undefined;
  }
}

describe('kill -9 of the alerts service', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let receiver: Receiver;
  let dir: string;
  const procs: ChildProcess[] = [];

  beforeAll(async () => {
    nats = await startNatsServer({ name: 'alerts-crash' });
    nc = await connect({ servers: nats.url });
    await createHubStream(await nc.jetstreamManager());
    receiver = await Receiver.start();
    dir = mkdtempSync(join(tmpdir(), 'mmm-alerts-crash-'));
  });

  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map(exited));
    await nc?.close();
    await receiver?.down();
    await nats?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('neither repeats nor loses a notification when killed while alerts fire and while one resolves', async () => {
    const ops = await freePort();
    const file = join(dir, 'alerts.ini');
    writeFileSync(
      file,
      configText({
        url: nats.url,
        hook: receiver.url,
        opsPort: ops,
        rules: '[rule_battery-low]\nkind = battery_low\nthreshold = 20\nduration = 0\n',
      }),
    );
    const start = async () => {
      const p = spawnAlerts(file);
      procs.push(p.proc);
      await waitFor(
        `alerts ready\n${p.output()}`,
        async () => (await get(`http://127.0.0.1:${ops}/readyz`))?.includes('true'),
        90_000,
        250,
      );
      return p;
    };
    const js = nc.jetstream();
    let first = await start();

    await publish(js, batteryRx({ from: N1, at: Date.now() }, 10), batteryRx({ from: N2, at: Date.now() }, 11));
    await waitFor('both firing', () => receiver.got.length >= 2, 60_000);
    // N2 recovers, and the service dies with it maybe read, maybe evaluated, maybe notified.
    await publish(js, batteryRx({ from: N2, at: Date.now() }, 90));
    first.proc.kill('SIGKILL');
    await exited(first.proc);

    first = await start();
    await publish(js, batteryRx({ from: N3, at: Date.now() }, 5));
    await waitFor('N2 resolved and N3 firing after the restart', () => receiver.got.length >= 4, 60_000);
    // Longer than several sweeps and checkpoints: a repeat would have come by now.
    await new Promise((r) => setTimeout(r, 3000));

    expect(receiver.lines().sort()).toEqual(
      [
        `battery-low:${id(N1)}:firing`,
        `battery-low:${id(N2)}:firing`,
        `battery-low:${id(N2)}:resolved`,
        `battery-low:${id(N3)}:firing`,
      ].sort(),
    );
    expect(new Set(receiver.got.map((g) => g.key)).size).toBe(4);
    // Each transition stored once on mesh.v1.alerts.* too.
    const info = await (await nc.jetstreamManager()).streams.info(ALERTS_STREAM);
    expect(info.state.messages).toBe(4);
    const metrics = await get(`http://127.0.0.1:${ops}/metrics`);
    expect(metrics).toMatch(/mmm_alerts_firing\{rule="battery-low",service="alerts"\} 2/);
    expect(metrics).toMatch(/mmm_alerts_notifications_total\{target="test",result="sent",service="alerts"\} [12]\b/);
    first.proc.kill('SIGTERM');
    await exited(first.proc);
  });
});
