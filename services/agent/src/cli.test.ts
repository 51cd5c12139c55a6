import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streams } from '@mmm/schemas';
import { startNatsServer } from '@mmm/testkit';
import { Command } from 'commander';
import { connect } from 'nats';
import { afterAll, describe, expect, it } from 'vitest';
import { register } from './cli.js';
import { writeSampleConfig } from './config/sample.js';
import { readAgentConfig, resolveSettings } from './config/settings.js';
import { provisionHub } from './streams/provision.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const MAIN = join(ROOT, 'services/cli/src/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'mmm-agent-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mmm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=development', '--import', 'tsx', MAIN, ...args],
      { cwd: ROOT, timeout: 100_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

function natsConfigValid(file: string): void {
  execFileSync('nats-server', ['-c', file, '-t'], { cwd: dir, stdio: 'pipe' });
}

describe('mmm agent / mmm streams', () => {
  // Each CLI start costs seconds on a busy two-core box, so every command runs at once and the checks follow.
  it('config errors exit 2 with file/section/key; --create-config writes loadable files and refuses to overwrite; streams provision', async () => {
    const bad = join(dir, 'bad.ini');
    writeFileSync(bad, '[agent]\nid = a\nlocation_name = x\n[meshtastic]\ntcp_host = h\nspeed = 9\n');
    const file = join(dir, 'new', 'agent.ini');
    const hub = await startNatsServer({ name: 'hub', domain: 'hub', leafListen: true });
    try {
      // One real process for the exit code; the rest runs in-process on the same commander program,
      // since each CLI start costs seconds on a busy two-core box.
      const unknown = mmm('agent', '--config', bad);
      const out: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
      try {
        const program = new Command('mmm').exitOverride();
        register(program);
        await program.parseAsync(['agent', '--create-config', file, '--site', 'north'], { from: 'user' });
        await program.parseAsync(['streams', 'provision', '--hub', hub.url, '--site', 'north', '--site', 'south'], {
          from: 'user',
        });
      } finally {
        process.stdout.write = write;
      }
      expect((await unknown).code).toBe(2);
      expect((await unknown).stderr).toContain(`${bad} [meshtastic] speed: unknown key`);

      expect(out.join('')).toContain(`wrote ${file}\n`);
      expect(readdirSync(join(dir, 'new')).sort()).toEqual(['agent.ini', 'leaf-north.conf']);
      const s = resolveSettings(readAgentConfig(file, {}));
      expect(s).toMatchObject({
        site: 'north',
        agent: 'agent-001',
        radio: { kind: 'tcp', host: '127.0.0.1', port: 4403 },
        legacy: [],
      });
      const leaf = readFileSync(join(dir, 'new', 'leaf-north.conf'), 'utf8');
      expect(leaf).toMatch(/domain: north/);
      expect(leaf).toMatch(/sync_interval: always/);
      natsConfigValid(join(dir, 'new', 'leaf-north.conf'));
      expect(out.join('')).toMatch(
        /MESH: 0 messages, sources MESH_north, MESH_south\nMESH_DERIVED: 0 messages, subjects mesh\.v1\.derived\.>\nMESH_DLQ: 0 messages, subjects mesh\.v1\.dlq\.>\nMESH_ALERTS: 0 messages, subjects mesh\.v1\.alerts\.>\nconsumer MESH\.ingest\nconsumer MESH\.api-api\nconsumer MESH_DERIVED\.api-api-mesh-derived\nkv bucket mesh_topology\nkv bucket mesh_topology_state\nkv bucket mesh_topology_lease\nkv bucket mesh_alerts\nkv bucket mesh_alerts_control\nkv bucket mesh_alerts_state\n$/,
      );
      const nc = await connect({ servers: hub.url });
      const jsm = await nc.jetstreamManager();
      // Re-running for another site adds it and keeps the others (idempotent, never cuts a site off).
      await provisionHub(jsm, { sites: ['east'], hubSites: ['legacy'] });
      await provisionHub(jsm, { sites: ['east'], hubSites: ['legacy'] });
      const mesh = await jsm.streams.info(streams.hub);
      // The legacy HTTP API's site publishes on the hub itself: MESH captures those subjects too.
      expect(mesh.config.subjects).toEqual(['mesh.v1.legacy.>']);
      const ack = await nc.jetstream().publish('mesh.v1.legacy.old-agent.status', new TextEncoder().encode('{}'));
      expect(ack.stream).toBe(streams.hub);
      // Each source delivers on its own site's prefix, the only one that site's leafnode link may carry.
      expect(mesh.config.sources?.map((x) => [x.name, x.external?.api, x.external?.deliver]).sort()).toEqual([
        ['MESH_east', '$JS.east.API', 'mmm.sourcing.east'],
        ['MESH_north', '$JS.north.API', 'mmm.sourcing.north'],
        ['MESH_south', '$JS.south.API', 'mmm.sourcing.south'],
      ]);
      expect(mesh.config.duplicate_window).toBe(120_000_000_000);
      expect((await jsm.streams.info(streams.derived)).config.subjects).toEqual(['mesh.v1.derived.>']);
      expect((await jsm.streams.info(streams.deadLetters)).config.subjects).toEqual(['mesh.v1.dlq.>']);
      await nc.close();
    } finally {
      await hub.dispose();
    }
  }, 120_000);

  it('--force overwrites a sample', () => {
    const file = join(dir, 'forced', 'agent.ini');
    const o = {
      site: 's',
      agent: 'a',
      leafPort: 4222,
      hubLeafUrl: 'nats-leaf://h:7422',
      storeDir: '/tmp/x',
      syncSupported: false,
    };
    writeSampleConfig(file, o);
    writeFileSync(file, '# mine\n');
    expect(() => writeSampleConfig(file, o)).toThrow(`${file}: already exists; use --force to overwrite it`);
    expect(readFileSync(file, 'utf8')).toBe('# mine\n');
    expect(writeSampleConfig(file, { ...o, site: 's' }, true).leaf).toBe(join(dir, 'forced', 'leaf-s.conf'));
  });

  it('infra/nats hub cluster and leaf configs pass nats-server -t', () => {
    for (const f of ['hub-a.conf', 'hub-b.conf', 'hub-c.conf', 'leaf.conf'])
      natsConfigValid(join(ROOT, 'infra/nats', f));
  });
});
