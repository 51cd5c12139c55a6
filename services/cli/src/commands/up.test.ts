import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePortBlock, waitFor } from '@mmm/testkit';
import { connect } from 'nats';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/mmm.js', import.meta.url));
/** As a user runs it: from the repository root (see the cwd note in up/stack.ts). */
const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));
/** Generous: six services start from TypeScript sources on two shared cores. */
const UP_TIMEOUT_MS = 180_000;

interface Up {
  proc: ChildProcess;
  out: () => string;
  exit: Promise<number | null>;
}

function startUp(args: string[], env: Record<string, string> = {}): Up {
  let out = '';
  const proc = spawn(process.execPath, [BIN, 'up', ...args], {
    cwd: ROOT,
    env: { ...process.env, MMM_FROM_SOURCE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (out += d.toString()));
  proc.stderr!.on('data', (d) => (out += d.toString()));
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, out: () => out, exit };
}

/** Resolves once `mmm up` says everything is up; rejects at once with its output if it exits first. */
function whenUp(up: Up, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not up within ${timeoutMs} ms:\n${up.out()}`)), timeoutMs);
    const check = setInterval(() => {
      if (up.out().includes('MeshyMcMapface is up')) {
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }
    }, 250);
    void up.exit.then((code) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`mmm up exited with ${code} before it was up:\n${up.out()}`));
    });
  });
}

/** The pids in the table `mmm up` prints once everything is ready. */
function tablePids(out: string): Map<string, number> {
  const rows = out.split('\n').filter((l) => /^[a-z-]+\s+\d+\s+/.test(l));
  return new Map(rows.map((l) => l.trim().split(/\s+/)).map(([name, pid]) => [name!, Number(pid)]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Receptions visible through the API, whatever the envelope of /api/packets (array or { packets: [...] }). */
async function packetCount(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/api/packets?limit=1000`);
  if (!res.ok) return 0;
  const body = (await res.json()) as unknown;
  const list = Array.isArray(body) ? body : Object.values(body as Record<string, unknown>).find(Array.isArray);
  return (list as unknown[] | undefined)?.length ?? 0;
}

const dirs: string[] = [];
const leftovers: ChildProcess[] = [];
afterAll(() => {
  for (const p of leftovers) if (p.exitCode === null) p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('mmm up', () => {
  it(
    'starts the whole stack, serves simulated packets, stops every child on SIGINT, reuses its data on restart, and stops the stack when a service crashes',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'mmm-up-'));
      dirs.push(dataDir);
      // One block below the ephemeral range: mmm up derives ports from these (leaf monitor = monitor + 1, ops base + 1…4).
      const b = await freePortBlock(12);
      const [api, nats, leaf, leafnode, monitor, ops, sim] = [0, 1, 2, 3, 4, 6, 11].map((i) => b[i] as number) as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      const args = [
        '--data-dir',
        dataDir,
        '--port',
        String(api),
        '--nats-port',
        String(nats),
        '--leaf-port',
        String(leaf),
        '--leafnode-port',
        String(leafnode),
        '--monitor-port',
        String(monitor),
        '--ops-port-base',
        String(ops),
        '--sim-port',
        String(sim),
        '--sim-rate',
        '5',
        '--sim-seed',
        '7',
        '--ready-timeout',
        '150',
      ];

      // First run: everything comes up and simulated packets reach the API.
      const first = startUp(args);
      leftovers.push(first.proc);
      await whenUp(first, UP_TIMEOUT_MS);
      const pids = tablePids(first.out());
      expect([...pids.keys()].sort()).toEqual([
        'agent',
        'alerts',
        'api',
        'hub-nats',
        'ingest',
        'leaf-nats',
        'route-analysis',
        'sim',
      ]);
      expect((await fetch(`http://127.0.0.1:${api}/readyz`)).status).toBe(200);
      const before = await waitFor(
        'packets in /api/packets',
        async () => ((await packetCount(api)) > 0 ? packetCount(api) : undefined),
        60_000,
        500,
      );
      for (const f of [
        'hub-nats.conf',
        'leaf-nats.conf',
        'agent.ini',
        'ingest.ini',
        'route-analysis.ini',
        'api.ini',
        'alerts.ini',
      ]) {
        expect(existsSync(join(dataDir, 'config', f)), f).toBe(true);
      }

      // SIGINT: exit 0, and no child (nor anything a child started) is left.
      first.proc.kill('SIGINT');
      expect(await first.exit).toBe(0);
      for (const [name, pid] of pids) expect(alive(pid), `${name} (pid ${pid}) still running`).toBe(false);
      expect(existsSync(join(dataDir, 'up.pid'))).toBe(false);
      const agentIni = readFileSync(join(dataDir, 'config', 'agent.ini'), 'utf8');

      // Second run on the same data: configs reused, earlier history still there, streams kept.
      const second = startUp(args);
      leftovers.push(second.proc);
      await whenUp(second, UP_TIMEOUT_MS);
      expect(second.out()).toContain('reusing the configuration');
      expect(readFileSync(join(dataDir, 'config', 'agent.ini'), 'utf8')).toBe(agentIni);
      expect(await packetCount(api)).toBeGreaterThanOrEqual(before);
      const nc = await connect({ servers: `nats://127.0.0.1:${nats}` });
      const info = await (await nc.jetstreamManager()).streams.info('MESH');
      await nc.close();
      expect(info.state.messages).toBeGreaterThanOrEqual(before);

      // A service that dies is reported, and the stack stops instead of limping on.
      const pids2 = tablePids(second.out());
      process.kill(pids2.get('route-analysis')!, 'SIGKILL');
      expect(await second.exit).toBe(1);
      expect(second.out()).toMatch(/route-analysis \(pid \d+\) exited on its own \(signal SIGKILL\)/);
      for (const [name, pid] of pids2) expect(alive(pid), `${name} (pid ${pid}) still running`).toBe(false);
    },
    UP_TIMEOUT_MS * 2 + 120_000,
  );

  it(
    'runs the hub as three nodes with R3 streams and buckets, reports the kill -9 of the MESH leader and carries on: the API answers and new receptions arrive',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'mmm-up3-'));
      dirs.push(dataDir);
      // One block below the ephemeral range, so the hub nodes' cluster routes dialling each other cannot take a port
      // mmm up derives (hub node n: nats, leafnode, monitor and cluster + 10·n; leaf monitor = monitor + 1).
      const b = await freePortBlock(35);
      const [nats, leafnode, monitor, cluster, api, leaf, sim, ops] = [
        b[0],
        b[1],
        b[2],
        b[4],
        b[5],
        b[6],
        b[7],
        b[30],
      ] as [number, number, number, number, number, number, number, number];
      const up = startUp([
        '--hub-nodes',
        '3',
        '--data-dir',
        dataDir,
        '--port',
        String(api),
        '--nats-port',
        String(nats),
        '--leaf-port',
        String(leaf),
        '--leafnode-port',
        String(leafnode),
        '--monitor-port',
        String(monitor),
        '--cluster-port',
        String(cluster),
        '--ops-port-base',
        String(ops),
        '--sim-port',
        String(sim),
        '--sim-rate',
        '5',
        '--ready-timeout',
        '150',
      ]);
      leftovers.push(up.proc);
      await whenUp(up, UP_TIMEOUT_MS);
      const pids = tablePids(up.out());
      expect([...pids.keys()].sort()).toEqual([
        'agent',
        'alerts',
        'api',
        'hub-a-nats',
        'hub-b-nats',
        'hub-c-nats',
        'ingest',
        'leaf-nats',
        'route-analysis',
        'sim',
      ]);
      const leafConf = readFileSync(join(dataDir, 'config', 'leaf-nats.conf'), 'utf8');
      for (const p of [leafnode, leafnode + 10, leafnode + 20])
        expect(leafConf).toContain(`nats-leaf://127.0.0.1:${p}`);
      const urls = [nats, nats + 10, nats + 20].map((p) => `nats://127.0.0.1:${p}`);
      const nc = await connect({ servers: urls, maxReconnectAttempts: -1 });
      try {
        // Generous request timeouts, and reads retried: two shared cores run nine processes here.
        const jsm = await nc.jetstreamManager({ timeout: 20_000 });
        const info = (name: string) => waitFor(`stream ${name}`, () => jsm.streams.info(name), 60_000, 500);
        const mesh = await info('MESH');
        expect(mesh.config.num_replicas).toBe(3);
        expect(mesh.cluster?.replicas?.length).toBe(2);
        for (const kv of ['KV_mesh_topology', 'KV_mesh_topology_state', 'KV_mesh_topology_lease']) {
          expect((await info(kv)).config.num_replicas, kv).toBe(3);
        }
        const stats = async () => {
          const res = await fetch(`http://127.0.0.1:${api}/api/stats`, { signal: AbortSignal.timeout(5000) });
          return ((await res.json()) as { packets: { total: number } }).packets.total;
        };
        const before = await waitFor(
          'receptions in /api/stats',
          async () => ((await stats()) > 0 ? stats() : undefined),
          90_000,
          500,
        );

        // kill -9 the node that leads MESH: the hardest one to lose.
        const leader = mesh.cluster!.leader!;
        const victim = pids.get(`${leader}-nats`)!;
        process.kill(victim, 'SIGKILL');
        await waitFor(
          'mmm up to report the lost hub node',
          () =>
            new RegExp(
              `hub node ${leader}-nats \\(pid ${victim}\\) died \\(signal SIGKILL\\); the hub carries on with 2 of 3`,
            ).test(up.out()),
          30_000,
          250,
        );
        expect(up.out()).toMatch(new RegExp(`${leader}-nats\\s+${victim}\\s+DOWN \\(signal SIGKILL\\)`));
        expect(up.proc.exitCode).toBe(null);
        // The API keeps answering and receptions published after the kill keep arriving through the other nodes.
        const atKill = (await info('MESH')).state.messages;
        await waitFor(
          'MESH to grow after the kill',
          async () => (await jsm.streams.info('MESH')).state.messages > atKill + 10,
          120_000,
          1000,
        );
        await waitFor(
          'the API to show receptions published after the kill',
          async () => (await stats()) > before + 10,
          120_000,
          1000,
        );
        expect((await fetch(`http://127.0.0.1:${api}/readyz`)).status).toBe(200);
      } finally {
        await nc.close();
      }
      up.proc.kill('SIGINT');
      expect(await up.exit).toBe(0);
      for (const [name, pid] of pids) expect(alive(pid), `${name} (pid ${pid}) still running`).toBe(false);
    },
    UP_TIMEOUT_MS + 360_000,
  );

  it('names the missing system package and its install command when nats-server is absent', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mmm-up-'));
    dirs.push(dataDir);
    const up = startUp(['--data-dir', dataDir], { PATH: '/nonexistent' });
    expect(await up.exit).toBe(1);
    expect(up.out()).toContain('nats-server is not installed');
    expect(up.out()).toContain('sudo apt-get install -y nats-server');
  });

  it('refuses bad flags with exit code 2', async () => {
    const up = startUp(['--port', '4222', '--nats-port', '4222']);
    expect(await up.exit).toBe(2);
    expect(up.out()).toMatch(/--nats-port and --port are both 4222/);
    // Commander's own argument errors are usage errors too.
    const radio = startUp(['--radio', 'bluetooth:xx']);
    expect(await radio.exit).toBe(2);
    expect(radio.out()).toContain('tcp:HOST[:PORT] or serial:/dev/DEVICE');
  });

  it('refuses a data directory set up with other ports unless --reconfigure', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mmm-up-'));
    dirs.push(dataDir);
    const { prepare } = await import('./up/layout.js');
    const { toUpOptions } = await import('./up/options.js');
    prepare(toUpOptions({ dataDir }), [2, 9]);
    const hub = readFileSync(join(dataDir, 'config', 'hub-nats.conf'), 'utf8');
    expect(hub).toContain('# sync_interval: always');
    expect(() => prepare(toUpOptions({ dataDir, natsPort: 5222 }), [2, 9])).toThrow(
      /port nats: 4222 -> 5222.*--reconfigure/,
    );
    const { written } = prepare(toUpOptions({ dataDir, natsPort: 5222, reconfigure: true }), [2, 10]);
    expect(written).toHaveLength(7);
    expect(readFileSync(join(dataDir, 'config', 'hub-nats.conf'), 'utf8')).toContain('listen: 127.0.0.1:5222');
    expect(readFileSync(join(dataDir, 'config', 'hub-nats.conf'), 'utf8')).toMatch(/^\s+sync_interval: always/m);
  });

  it('writes service configs that each service loads with its own spec (SQLite and ClickHouse variants)', async () => {
    const { prepare } = await import('./up/layout.js');
    const { toUpOptions } = await import('./up/options.js');
    const { parseConfig } = await import('@mmm/common');
    const specs = {
      'agent.ini': (await import('@mmm/agent')).agentConfigSpec,
      'ingest.ini': (await import('@mmm/ingest')).ingestConfigSpec,
      'route-analysis.ini': (await import('@mmm/route-analysis')).routeAnalysisConfig,
      'api.ini': (await import('@mmm/api')).apiConfigSpec,
      'alerts.ini': (await import('@mmm/alerts')).alertsConfig,
    };
    for (const extra of [
      {},
      { clickhouse: 'http://127.0.0.1:8123', radio: { kind: 'serial', path: '/dev/ttyUSB0' } },
      { hubNodes: 3 },
      { alertsWebhook: ['http://127.0.0.1:9000/hook', 'https://ntfy.sh/mesh?x=1'] },
    ]) {
      const dataDir = mkdtempSync(join(tmpdir(), 'mmm-up-'));
      dirs.push(dataDir);
      prepare(toUpOptions({ dataDir, ...extra }), [2, 9]);
      for (const [file, spec] of Object.entries(specs)) {
        const path = join(dataDir, 'config', file);
        expect(() => parseConfig(spec as never, readFileSync(path, 'utf8'), path, { env: {} }), path).not.toThrow();
      }
      if ('alertsWebhook' in extra) {
        const path = join(dataDir, 'config', 'alerts.ini');
        const cfg = (await import('@mmm/alerts')).parseAlertsConfig(readFileSync(path, 'utf8'), path);
        expect(Object.values(cfg.webhook).map((w) => w.url)).toEqual(extra.alertsWebhook);
      }
    }
  });

  it('--mqtt turns on the leaf listener and --mqtt-broker adds a bridge whose config mmm mqtt loads', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mmm-up-'));
    dirs.push(dataDir);
    const { prepare } = await import('./up/layout.js');
    const { toUpOptions } = await import('./up/options.js');
    const { parseMqttSettings } = await import('@mmm/agent');
    const raw = {
      dataDir,
      mqtt: true,
      mqttPort: 11883,
      mqttBroker: 'mqtt://broker.example:1883',
      mqttTopic: 'msh/EU_868/#',
    };
    prepare(toUpOptions(raw), [2, 9]);
    expect(readFileSync(join(dataDir, 'config', 'leaf-nats.conf'), 'utf8')).toMatch(
      /mqtt \{\s+listen: 127.0.0.1:11883/,
    );
    const ini = join(dataDir, 'config', 'mqtt.ini');
    const settings = parseMqttSettings(readFileSync(ini, 'utf8'), ini, {});
    expect(settings.site).toBe('local');
    expect(settings.brokers.map((b) => [b.name, b.url, b.topics])).toEqual([
      ['leaf', 'mqtt://127.0.0.1:11883', ['msh/#']],
      ['upstream', 'mqtt://broker.example:1883', ['msh/EU_868/#']],
    ]);
    expect(settings.opsPort).toBe(9405);
    expect(() => prepare(toUpOptions({ dataDir }), [2, 9])).toThrow(/--mqtt: on -> \(off\)/);
    // A data directory set up before these flags existed has no mqtt entry: the same flags still match it.
    const plain = mkdtempSync(join(tmpdir(), 'mmm-up-'));
    dirs.push(plain);
    prepare(toUpOptions({ dataDir: plain }), [2, 9]);
    const state = JSON.parse(readFileSync(join(plain, 'up.json'), 'utf8'));
    delete state.ports.mqtt;
    writeFileSync(join(plain, 'up.json'), JSON.stringify(state));
    expect(() => prepare(toUpOptions({ dataDir: plain }), [2, 9])).not.toThrow();
    expect(() => toUpOptions({ mqttTopic: 'msh/#' })).toThrow(/--mqtt-topic needs --mqtt-broker/);
    expect(() => toUpOptions({ mqtt: true, mqttPort: 4222 })).toThrow(
      /--nats-port and --mqtt-port|--mqtt-port and --nats-port/,
    );
  });
});
