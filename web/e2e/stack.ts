import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Simulator, startSimulator } from '@mmm/simulator';
import { freePortBlock, waitFor } from '@mmm/testkit';

// The whole stack for browser tests: an in-process simulator (so a test can move a node) that `mmm up` treats
// as a real radio over TCP, and `mmm up` for hub + leaf nats-server, agent, ingest, route-analysis and the API,
// all on free loopback ports with a temp data dir. The map's tile URL is 'none': no request may leave 127.0.0.1.

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MMM = join(REPO, 'services/cli/bin/mmm.js');

export interface Stack {
  readonly url: string;
  /** The hub nats-server (no auth under mmm up). */
  readonly natsUrl: string;
  readonly sim: Simulator;
  readonly pid: number;
  output(): string;
  stop(): Promise<void>;
}

export class StackStartError extends Error {
  override readonly name = 'StackStartError';
}

export async function startStack(opts: { nodes?: number; rate?: number; alertsWebhook?: string } = {}): Promise<Stack> {
  const sim = await startSimulator({
    nodes: opts.nodes ?? 24,
    rate: opts.rate ?? 8,
    seed: 11,
    hostileNames: true,
    traceDelayMs: [50, 200],
    traceRateLimitMs: 1000,
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'mmm-web-e2e-'));
  // One block below the ephemeral range: mmm up derives the leaf monitor (monitor + 1) and the ops ports (base + 1…4),
  // which an outgoing connection could otherwise take first.
  const block = await freePortBlock(12);
  const at = (i: number) => block[i] as number;
  const ports = { api: at(0), nats: at(1), leaf: at(2), leafnode: at(3), monitor: at(4), ops: at(6) };
  const args = [
    MMM,
    'up',
    '--data-dir',
    dataDir,
    '--port',
    String(ports.api),
    '--nats-port',
    String(ports.nats),
    '--leaf-port',
    String(ports.leaf),
    '--leafnode-port',
    String(ports.leafnode),
    '--monitor-port',
    String(ports.monitor),
    '--ops-port-base',
    String(ports.ops),
    '--radio',
    `tcp:${sim.host}:${sim.port}`,
    '--site',
    'e2e',
    '--log-level',
    'warn',
    ...(opts.alertsWebhook ? ['--alerts-webhook', opts.alertsWebhook] : []),
  ];
  let out = '';
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: REPO,
    env: { ...process.env, MMM_FROM_SOURCE: '1', MMM_MAP_TILE_URL: 'none', MMM_SERVER_SITE_NAME: 'E2E <b>Mesh</b>' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-16_384);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });

  const stop = async () => {
    if (!exited && child.pid) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await gone;
      clearTimeout(timer);
    }
    await sim.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    await waitFor(
      'mmm up to report the stack is up',
      () => {
        if (exited) throw new StackStartError(`mmm up exited during start:\n${out}`);
        return out.includes('is up');
      },
      200_000,
      250,
    );
  } catch (err) {
    await stop();
    throw new StackStartError(`${(err as Error).message}\n--- mmm up output ---\n${out}`, { cause: err });
  }
  return {
    url: `http://127.0.0.1:${ports.api}`,
    natsUrl: `nats://127.0.0.1:${ports.nats}`,
    sim,
    pid: child.pid!,
    output: () => out,
    stop,
  };
}
