import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES_DIR, type NatsServer, startNatsServer, waitFor } from '@mmm/testkit';
import Database from 'better-sqlite3';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, provisionStreams, startStack } from '../testing.js';
import { OriginalDbError, openOriginal, TABLE_ORDER } from './original.js';
import { importOriginal } from './run.js';
import type { ImportState } from './state.js';

const REPO = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
const FIXTURE = join(FIXTURES_DIR, '..', 'original-db', 'meshview.db');

/** What the fixture holds, counted with SQL of our own (not through the importer's reader). */
function expected(path: string) {
  const db = new Database(path, { readonly: true });
  const one = (sql: string) => (db.prepare(sql).get() as { c: number }).c;
  const e = {
    packets: one('SELECT count(*) AS c FROM packets'),
    // A reception's Msg-Id is (agent, sender, packet id, second): rows equal in those are one reception.
    receptions: one(
      'SELECT count(*) AS c FROM (SELECT DISTINCT agent_id, from_node, packet_id, substr(timestamp, 1, 19) FROM packets)',
    ),
    users: one('SELECT count(*) AS c FROM user_info'),
    nodeRows: one('SELECT count(*) AS c FROM nodes'),
    names: one('SELECT count(*) AS c FROM node_name_history'),
    routes: one('SELECT count(*) AS c FROM network_routes'),
    agents: one('SELECT count(*) AS c FROM agents'),
  };
  db.close();
  return e;
}

/** Messages of one site in the hub stream, by subject kind (rx, nodedb, trace, status). */
async function streamCounts(nc: NatsConnection, site: string): Promise<Record<string, number>> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info('MESH', { subjects_filter: `mesh.v1.${site}.>` });
  const out: Record<string, number> = { rx: 0, nodedb: 0, trace: 0, status: 0 };
  for (const [subject, n] of Object.entries(info.state.subjects ?? {})) {
    const kind = subject.split('.')[4]!;
    out[kind] = (out[kind] ?? 0) + n;
  }
  return out;
}

function mmm(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--conditions=development', '--import', 'tsx', 'services/cli/src/main.ts', ...args], {
    cwd: REPO,
    env: { ...process.env, MMM_FROM_SOURCE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { code, stdout, stderr };
}

describe("import of the original server's database", () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  const dir = mkdtempSync(join(tmpdir(), 'mmm-import-'));
  const copy = join(dir, 'meshview.db');
  const want = expected(FIXTURE);

  beforeAll(async () => {
    copyFileSync(FIXTURE, copy);
    nats = await startNatsServer({ name: 'import' });
    nc = await connect({ servers: nats.url });
    await provisionStreams(nc, ['berlin', 'legacy', 'resumed']);
    // The repeat imports below must fall inside the hub's duplicate window however slow the machine is.
    const jsm = await nc.jetstreamManager();
    const { config } = await jsm.streams.info('MESH');
    await jsm.streams.update('MESH', { ...config, duplicate_window: 30 * 60 * 1e9 });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes every row as the legacy site; the API shows it; a second import changes nothing', {
    timeout: 180_000,
  }, async () => {
    const api = await startStack('', { nats });
    try {
      const db = openOriginal(copy);
      expect(db.counts).toEqual({
        agents: want.agents,
        user_info: want.users,
        nodes: want.nodeRows,
        node_name_history: want.names,
        network_routes: want.routes,
        packets: want.packets,
      });
      const statePath = join(dir, 'state.json');
      const lines: string[] = [];
      const first = await importOriginal({
        db,
        js: nc.jetstream(),
        site: 'legacy',
        statePath,
        progress: { write: (s: string) => lines.push(s) },
      });
      // Every row accounted for: published, already there (same Msg-Id), or rejected with a reason.
      for (const t of TABLE_ORDER) {
        const c = first.state.counts[t];
        expect(c.rows, t).toBe(db.counts[t]);
        expect(c.published + c.duplicates + c.rejected, t).toBe(c.rows);
      }
      expect(first.state.counts.packets.rejected).toBe(0);
      expect(first.state.counts.packets.published).toBe(want.receptions);
      expect(await streamCounts(nc, 'legacy')).toEqual({
        rx: want.receptions,
        nodedb: want.users + want.nodeRows + want.names,
        trace: want.routes,
        status: want.agents,
      });
      expect(JSON.parse(lines.at(-1)!)).toMatchObject({
        progress: 'import-original',
        done: first.newRows,
        final: true,
      });

      // Current state: the API's projection took the events in, with the original's names and times.
      await waitFor(
        'the projection has the imported agents and nodes',
        async () => {
          const a = (await getJson(`${api.url}/api/agents?hours=8760`)).body;
          const n = (await getJson(`${api.url}/api/nodes/detailed?hours=8760&limit=1`)).body;
          return a.agents?.length === want.agents && n.total === want.users;
        },
        60_000,
      );
      const fixture = new Database(copy, { readonly: true });
      const u = fixture.prepare('SELECT node_id, long_name FROM user_info ORDER BY rowid LIMIT 1').get() as {
        node_id: string;
        long_name: string;
      };
      const site1 = fixture.prepare("SELECT location_name FROM agents WHERE agent_id = 'site-1'").get() as {
        location_name: string;
      };
      fixture.close();
      const node = (await getJson(`${api.url}/api/nodes/${u.node_id}/details?hours=8760`)).body;
      expect(node.long_name).toBe(u.long_name);
      const agents = (await getJson(`${api.url}/api/agents?hours=8760`)).body.agents as {
        agent_id: string;
        location_name: string;
      }[];
      expect(agents.find((a) => a.agent_id === 'site-1')?.location_name).toBe(site1.location_name);

      // Again with the same state: nothing is read or sent.
      const again = await importOriginal({
        db,
        js: nc.jetstream(),
        site: 'legacy',
        statePath,
        progress: { write: () => 0 },
      });
      expect(again.newRows).toBe(0);
      // Again from scratch (another machine, the state lost): every event is one the hub already has.
      const scratch = await importOriginal({
        db,
        js: nc.jetstream(),
        site: 'legacy',
        statePath: join(dir, 'other-state.json'),
        progress: { write: () => 0 },
      });
      expect(scratch.state.counts.packets.published).toBe(0);
      expect(scratch.state.counts.packets.duplicates).toBe(want.receptions);
      expect(await streamCounts(nc, 'legacy')).toEqual({
        rx: want.receptions,
        nodedb: want.users + want.nodeRows + want.names,
        trace: want.routes,
        status: want.agents,
      });
      db.close();
    } finally {
      await api.dispose();
    }
  });

  it('goes on after kill -9 from where it stopped: same events, none twice', { timeout: 240_000 }, async () => {
    const statePath = join(dir, 'resumed.json');
    const args = [
      'import-original',
      copy,
      '--hub',
      nats.url,
      '--site',
      'resumed',
      '--state',
      statePath,
      '--batch',
      '100',
    ];
    const child = mmm(args);
    const done = finished(child);
    const read = () =>
      existsSync(statePath) ? (JSON.parse(readFileSync(statePath, 'utf8')) as ImportState) : undefined;
    await waitFor('the import is into the packets', () => (read()?.counts.packets.rows ?? 0) > 0, 120_000, 20);
    child.kill('SIGKILL');
    expect((await done).code).toBe(null);
    const cut = read()!;
    expect(cut.counts.packets.rows).toBeLessThan(want.packets);

    const rest = await finished(mmm(args));
    expect(rest.code, rest.stderr).toBe(0);
    const summary = JSON.parse(rest.stdout.trim().split('\n').at(-1)!);
    expect(summary.new_rows).toBe(want.packets - cut.counts.packets.rows);
    expect(summary.tables.packets).toMatchObject({ in_file: want.packets, rows: want.packets, rejected: 0 });
    expect(summary.tables.packets.published + summary.tables.packets.duplicates).toBe(want.packets);
    expect(await streamCounts(nc, 'resumed')).toEqual({
      rx: want.receptions,
      nodedb: want.users + want.nodeRows + want.names,
      trace: want.routes,
      status: want.agents,
    });
  });

  it('refuses damaged and foreign files with a clear error, publishing nothing', { timeout: 120_000 }, async () => {
    const bytes = readFileSync(FIXTURE);
    const cases: [string, Buffer | (() => void), RegExp][] = [
      ['truncated.db', bytes.subarray(0, Math.floor(bytes.length / 2)), /damaged|malformed|not a readable/],
      // Pages in the middle overwritten with noise (the header intact): only a check of the file finds it.
      [
        'noise.db',
        Buffer.concat([bytes.subarray(0, 4096 * 20), Buffer.alloc(4096 * 40, 0xa5), bytes.subarray(4096 * 60)]),
        /damaged|malformed/,
      ],
      ['text.db', Buffer.from('agent_id,timestamp\nsite-1,2026-01-01\n'), /not a readable SQLite database|cannot open/],
      [
        'foreign.db',
        () => {
          const db = new Database(join(dir, 'foreign.db'));
          db.exec('CREATE TABLE receptions (msg_id TEXT); CREATE TABLE agents (agent_id TEXT)');
          db.close();
        },
        /not a database of the original server \(no table user_info, nodes, network_routes, packets; it has agents, receptions\)/,
      ],
      [
        'old-columns.db',
        () => {
          const db = new Database(join(dir, 'old-columns.db'));
          for (const t of ['agents', 'user_info', 'nodes', 'network_routes']) db.exec(`CREATE TABLE ${t} (x TEXT)`);
          db.exec('CREATE TABLE packets (id INTEGER PRIMARY KEY, agent_id TEXT)');
          db.close();
        },
        /table agents lacks agent_id/,
      ],
    ];
    for (const [name, content, why] of cases) {
      const p = join(dir, name);
      if (typeof content === 'function') content();
      else writeFileSync(p, content);
      let err: unknown;
      try {
        openOriginal(p).close();
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(OriginalDbError);
      expect((err as Error).message, name).toMatch(why);
    }
    expect(() => openOriginal(join(dir, 'missing.db'))).toThrow(/no such file/);

    // The command: exit code 2, the reason on stderr, nothing on the hub.
    const before = await streamCounts(nc, 'berlin');
    const r = await finished(mmm(['import-original', join(dir, 'noise.db'), '--hub', nats.url, '--site', 'berlin']));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^mmm import-original: refused: .*noise\.db: the database is damaged/m);
    expect(await streamCounts(nc, 'berlin')).toEqual(before);
  });
});
