import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../../../..');
const UNITS_DIR = join(ROOT, 'systemd');
const UNITS = ['agent', 'leaf-nats', 'hub-nats', 'ingest', 'route-analysis', 'api'].map(
  (u) => `meshymcmapface-${u}.service`,
);
/**
 * Highest `systemd-analyze security --offline=true` exposure per unit: Node services 1.2, nats-server units 1.0. Two
 * units miss that as shipped, for reasons their comments give point by point; with the drop-in named here (what a
 * site installs when the reason does not apply to it) they reach it.
 */
const MAX_EXPOSURE: Record<string, { alone: number; dropIn?: [string, number] }> = {
  'meshymcmapface-ingest.service': { alone: 1.2 },
  'meshymcmapface-route-analysis.service': { alone: 1.2 },
  'meshymcmapface-api.service': { alone: 1.2 },
  // Serial radios need the host's /dev (a USB radio re-enumerates); with a TCP radio the drop-in privatises it.
  'meshymcmapface-agent.service': { alone: 1.3, dropIn: ['agent-tcp-radio.conf', 1.2] },
  // The peers' addresses are the deployment's: the IP allow-list is a drop-in the operator fills in.
  'meshymcmapface-hub-nats.service': { alone: 1.1, dropIn: ['nats-ip-allow.conf', 1.0] },
  'meshymcmapface-leaf-nats.service': { alone: 1.1, dropIn: ['nats-ip-allow.conf', 1.0] },
};

/** The scoring needs systemd-analyze (Debian package `systemd`; .ci/run installs it): fail clearly, never skip. */
function requireAnalyze(): void {
  if (spawnSync('sh', ['-c', 'command -v systemd-analyze']).status !== 0) {
    throw new Error('systemd-analyze is not installed; install it with: sudo apt-get install -y systemd');
  }
}

/** `Key=value` lines of a unit, repeated keys kept in order. */
function directives(unit: string): [string, string][] {
  return readFileSync(join(UNITS_DIR, unit), 'utf8')
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}
const values = (unit: string, key: string) =>
  directives(unit)
    .filter(([k]) => k === key)
    .map(([, v]) => v);

function exposure(file: string): number {
  const out = execFileSync('systemd-analyze', ['security', '--offline=true', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(out);
  if (!m) throw new Error(`no score for ${file}:\n${out.slice(-500)}`);
  return Number(m[1]);
}

describe('systemd units', () => {
  it('ships exactly the six units', () => {
    expect(
      readdirSync(UNITS_DIR)
        .filter((f) => f.endsWith('.service'))
        .sort(),
    ).toEqual([...UNITS].sort());
  });

  // systemd-analyze comes with Debian's systemd package (installed on these machines); .ci/run installs it if absent.
  it('each scores at most its target with systemd-analyze security --offline (with its drop-in where one exists)', () => {
    requireAnalyze();
    const dir = mkdtempSync(join(tmpdir(), 'mmm-units-'));
    try {
      for (const unit of UNITS) {
        const max = MAX_EXPOSURE[unit]!;
        expect(exposure(join(UNITS_DIR, unit)), unit).toBeLessThanOrEqual(max.alone);
        if (!max.dropIn) continue;
        // A drop-in's [Service] lines apply after the unit's: appended to its [Service] section they mean the same.
        const text = readFileSync(join(UNITS_DIR, unit), 'utf8');
        const extra = readFileSync(join(UNITS_DIR, 'drop-ins', max.dropIn[0]), 'utf8').replace(/^\[Service\]$/m, '');
        const merged = join(dir, unit);
        writeFileSync(merged, text.replace(/^\[Install\]$/m, `${extra}\n[Install]`));
        expect(exposure(merged), `${unit} + ${max.dropIn[0]}`).toBeLessThanOrEqual(max.dropIn[1]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the W^X, socket and system-call restrictions each unit can carry', () => {
    for (const unit of UNITS) {
      expect(values(unit, 'PrivateMounts'), unit).toEqual(['yes']);
      expect(values(unit, 'SystemCallFilter'), unit).toEqual(['@system-service', '~@privileged @resources']);
      // V8's JIT needs writable-then-executable memory; nats-server (Go) does not.
      expect(values(unit, 'MemoryDenyWriteExecute'), unit).toEqual(unit.includes('nats') ? ['yes'] : []);
      expect(values(unit, 'RestrictAddressFamilies'), unit).toEqual([
        unit.includes('hub-nats') ? 'AF_INET AF_INET6 AF_NETLINK' : 'AF_INET AF_INET6',
      ]);
    }
  });

  it('lets the agent alone open serial devices; every other unit has a closed, private /dev', () => {
    for (const unit of UNITS) {
      expect(values(unit, 'DevicePolicy'), unit).toEqual(['closed']);
      if (unit.includes('-agent')) {
        expect(values(unit, 'DeviceAllow')).toContain('char-ttyUSB rw');
        expect(values(unit, 'SupplementaryGroups')).toEqual(['dialout']);
        expect(values(unit, 'PrivateDevices')).toEqual(['no']);
      } else {
        expect(values(unit, 'DeviceAllow'), unit).toEqual([]);
        expect(values(unit, 'PrivateDevices'), unit).toEqual(['yes']);
      }
    }
  });

  it('gives every unit its own runtime, state and logs directory', () => {
    const runtime = UNITS.map((u) => values(u, 'RuntimeDirectory')[0]);
    const state = UNITS.map((u) => values(u, 'StateDirectory')[0]);
    const logs = UNITS.map((u) => values(u, 'LogsDirectory')[0]);
    for (const list of [runtime, state, logs]) {
      expect(list.every(Boolean)).toBe(true);
      expect(new Set(list).size).toBe(UNITS.length);
    }
    for (const unit of UNITS) {
      expect(values(unit, 'ConfigurationDirectory')).toEqual(['meshymcmapface']);
      // The config directory is read-only to the service (ProtectSystem=strict); only the API may write next to
      // ingest's SQLite history (its WAL index).
      expect(values(unit, 'ReadWritePaths')).toEqual(unit.includes('-api') ? ['-/var/lib/meshymcmapface/ingest'] : []);
      expect(values(unit, 'ExecStartPost')[0]).toMatch(/mmm-wait-ready/);
    }
  });

  it('reloads only where the process re-reads its configuration on SIGHUP (nats-server, the API tokens file)', () => {
    for (const unit of UNITS) {
      const reload = values(unit, 'ExecReload');
      if (unit.includes('nats') || unit.includes('-api')) expect(reload).toEqual(['/bin/kill -HUP $MAINPID']);
      else expect(reload, unit).toEqual([]);
    }
  });
});

describe('under a real systemd', () => {
  // These machines have no systemd as PID 1: the script boots one in a systemd-nspawn container over a throw-away
  // overlay of this root (Debian package systemd-container; .ci/run installs it) and starts the units there.
  it('starts every unit hardened as shipped (the agent with its TCP-radio drop-in) and runs the pipeline through them', () => {
    if (spawnSync('sh', ['-c', 'command -v systemd-nspawn']).status !== 0) {
      throw new Error('systemd-nspawn is not installed; install it with: sudo apt-get install -y systemd-container');
    }
    const r = spawnSync('bash', [join(ROOT, 'scripts/systemd-smoke.sh')], { encoding: 'utf8', timeout: 400_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    for (const unit of UNITS) expect(r.stdout).toContain(`${unit} active`);
    expect(r.stdout).toContain('meshymcmapface-agent.service active (TCP-radio drop-in)');
    expect(r.stdout).toContain('ingest history in /var/lib/meshymcmapface/ingest');
    expect(r.stdout).toContain('agent events stored in stream MESH_north');
    expect(r.stdout).toContain("events sourced into the hub's stream MESH");
  }, 420_000);
});

describe('mmm-wait-ready', () => {
  const script = join(UNITS_DIR, 'mmm-wait-ready');
  it('passes with no URL and fails on a refused port within its timeout', () => {
    expect(spawnSync(script, []).status).toBe(0);
    const r = spawnSync(script, ['http://127.0.0.1:1/readyz', '1'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('did not answer 200');
  });
  it('passes once the URL answers 200', async () => {
    const { createServer } = await import('node:http');
    const srv = createServer((_, res) => res.end('ok'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    const child = (await import('node:child_process')).spawn(script, [`http://127.0.0.1:${port}/readyz`, '10']);
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    srv.close();
    expect(code).toBe(0);
  });
});

describe('installer and uninstaller', () => {
  const install = join(ROOT, 'scripts/install.sh');
  const uninstall = join(ROOT, 'scripts/uninstall.sh');
  const dry = (script: string, ...args: string[]) => {
    const r = spawnSync('bash', [script, '--dry-run', ...args], { encoding: 'utf8', cwd: ROOT });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };

  it('parses (bash -n)', () => {
    for (const s of [install, uninstall, join(UNITS_DIR, 'mmm-wait-ready')]) {
      expect(spawnSync('bash', ['-n', s], { encoding: 'utf8' }).stderr).toBe('');
    }
  });

  it('installs the agent side, the server side, or both', () => {
    const agent = dry(install, '--agent', '--site', 'north');
    expect(agent).toContain('meshymcmapface-agent.service');
    expect(agent).toContain('meshymcmapface-leaf-nats.service');
    expect(agent).not.toContain('meshymcmapface-api.service');
    expect(agent).toContain('domain: north');
    expect(agent).toContain('usermod -a -G dialout');
    const server = dry(install, '--server');
    for (const u of ['hub-nats', 'ingest', 'route-analysis', 'api'])
      expect(server).toContain(`meshymcmapface-${u}.service`);
    expect(server).not.toContain('meshymcmapface-agent.service');
    expect(server).not.toContain('dialout');
    expect(dry(install)).toContain(
      'systemctl enable --now meshymcmapface-hub-nats meshymcmapface-leaf-nats meshymcmapface-agent meshymcmapface-ingest',
    );
  });

  it('writes nats-server configs that nats-server accepts', () => {
    const out = dry(install);
    const dir = mkdtempSync(join(tmpdir(), 'mmm-install-'));
    try {
      for (const role of ['hub', 'leaf']) {
        const m = new RegExp(
          `\\+ write /etc/meshymcmapface/${role}-nats.conf \\(mode 0640\\):\\n((?: {4}.*\\n)+)`,
        ).exec(out);
        expect(m, role).not.toBeNull();
        const file = join(dir, `${role}.conf`);
        writeFileSync(file, m![1]!.replace(/^ {4}/gm, ''));
        const r = spawnSync('nats-server', ['-t', '-c', file], { encoding: 'utf8' });
        expect(r.status, r.stderr + r.stdout).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a hostile site id and unknown options', () => {
    expect(spawnSync('bash', [install, '--dry-run', '--site', 'a.b>'], { encoding: 'utf8' }).status).toBe(2);
    expect(spawnSync('bash', [install, '--bogus'], { encoding: 'utf8' }).status).toBe(2);
  });

  it('never deletes data, configuration or logs without --purge', () => {
    const keep = dry(uninstall);
    expect(keep).not.toMatch(/rm -rf \/var\/lib/);
    expect(keep).not.toMatch(/rm -rf \/var\/log/);
    expect(keep).not.toMatch(/rm .*\/etc\/meshymcmapface/);
    expect(keep).toContain('systemctl disable --now meshymcmapface-api.service');
    const purge = dry(uninstall, '--purge');
    expect(purge).toContain('rm -rf /var/lib/meshymcmapface/api');
    expect(purge).toContain('rm -rf /var/lib/meshymcmapface /var/log/meshymcmapface /etc/meshymcmapface');
  });
});
