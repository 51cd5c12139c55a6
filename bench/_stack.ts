// `mmm up` as a user runs it (from source), for benchmarks of the whole stack: its own data directory and ports, the
// simulator idle, legacy agent keys in the API's config, and the pids of the table it prints once everything is up.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@mmm/testkit';

export interface StackOptions {
  root: string;
  dataDir: string;
  /** 12 consecutive free ports (testkit freePortBlock). */
  ports: number[];
  /** agent id → key for the original agents' HTTP API. */
  apiKeys: Record<string, string>;
  /** A directory for V8 CPU profiles of every Node process of the stack (bench/_cpu-prof.mjs). */
  profileDir?: string;
  log: (...a: unknown[]) => void;
}

export interface Stack {
  apiUrl: string;
  natsUrl: string;
  /** Service name (as in the table) → pid of the process `mmm up` started. */
  pids: Map<string, number>;
  /** Packets `/api/stats` counts. */
  storedPackets(): Promise<number>;
  /** Resolves once `/api/stats` counts at least n packets. */
  waitStored(n: number): Promise<void>;
  stop(): Promise<void>;
}

const UP_TIMEOUT_MS = 300_000;

/**
 * The API's config is written before the first start: `mmm up` keeps a config file it finds (an operator's edits),
 * and the legacy routes need keys, which it does not write. The rest is what it would write itself.
 */
function writeApiIni(o: StackOptions, api: number, nats: number): void {
  const dir = join(o.dataDir, 'config');
  mkdirSync(dir, { recursive: true });
  const keys = Object.entries(o.apiKeys)
    .map(([a, k]) => `${a} = ${k}`)
    .join('\n');
  writeFileSync(
    join(dir, 'api.ini'),
    `[server]\nhost = 127.0.0.1\nport = ${api}\n\n[nats]\nurl = nats://127.0.0.1:${nats}\n\n[database]\npath = ${join(o.dataDir, 'api.db')}\n\n[history]\nsqlite_path = ${join(o.dataDir, 'history.db')}\n\n[api_keys]\n${keys}\n`,
  );
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const [api, nats, leaf, leafnode, monitor, ops, sim] = [0, 1, 2, 3, 4, 6, 11].map((i) => o.ports[i]!) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  writeApiIni(o, api, nats);
  const args = [
    ...['--data-dir', o.dataDir, '--port', String(api), '--nats-port', String(nats), '--leaf-port', String(leaf)],
    ...['--leafnode-port', String(leafnode), '--monitor-port', String(monitor), '--ops-port-base', String(ops)],
    ...['--sim-port', String(sim), '--sim-rate', '0', '--log-level', 'warn'],
  ];
  let out = '';
  const proc: ChildProcess = spawn(process.execPath, [join(o.root, 'services/cli/bin/mmm.js'), 'up', ...args], {
    cwd: o.root,
    env: {
      ...process.env,
      MMM_FROM_SOURCE: '1',
      ...(o.profileDir
        ? { NODE_OPTIONS: `--import ${join(o.root, 'bench/_cpu-prof.mjs')}`, MMM_CPU_PROF_DIR: o.profileDir }
        : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  proc.stdout!.on('data', (d) => (out += d.toString()));
  proc.stderr!.on('data', (d) => (out += d.toString()));
  const stop = async () => {
    if (proc.exitCode === null) proc.kill('SIGTERM');
    await exited;
  };
  try {
    o.log('starting mmm up in', o.dataDir);
    // An early exit ends the wait at once (waitFor would keep polling a thrown error until its timeout).
    let up = false;
    await Promise.race([
      waitFor('mmm up', () => out.includes('MeshyMcMapface is up'), UP_TIMEOUT_MS, 250).then(() => {
        up = true;
      }),
      exited.then((code) => {
        if (!up) throw new Error(`mmm up exited with ${code}:\n${out.slice(-3000)}`);
      }),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  const rows = out.split('\n').filter((l) => /^[a-z-]+\s+\d+\s+/.test(l));
  const pids = new Map(rows.map((l) => l.trim().split(/\s+/)).map(([name, pid]) => [name!, Number(pid)]));
  o.log('up:', Object.fromEntries(pids));
  const apiUrl = `http://127.0.0.1:${api}`;
  const storedPackets = async () => {
    const res = await fetch(`${apiUrl}/api/stats`);
    if (!res.ok) throw new Error(`/api/stats: ${res.status}`);
    return ((await res.json()) as { packets: { total: number } }).packets.total;
  };
  return {
    apiUrl,
    natsUrl: `nats://127.0.0.1:${nats}`,
    pids,
    storedPackets,
    waitStored: async (n) => {
      await waitFor(`/api/stats counts ${n} packets`, async () => (await storedPackets()) >= n, 600_000, 200);
    },
    stop,
  };
}
