// Test support: starts the NATS configs a deployment manifest ships, as they are, on this machine. Only the
// addresses change (every listen address to a free loopback port, every reference to another server to the port that
// server got) and the store directory; a reference that resolves to no server of the manifest fails the render, so a
// manifest whose routes or remotes name a server it does not run cannot pass.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, supportsSyncAlways, waitFor } from '@mmm/testkit';

export interface ManifestServer {
  /** Name of the server in the manifest (container, pod, file). */
  name: string;
  /** The config text as shipped. */
  text: string;
  /** Environment the manifest gives it (SERVER_NAME, POD_NAME…): nats-server substitutes $VARS from it. */
  env?: Record<string, string>;
  /** Host names other servers use for it (compose service name, pod DNS name). */
  aliases?: string[];
}

export interface RenderedServer extends ManifestServer {
  rendered: string;
  /** Original port (4222, 6222, 7422, 8222…) -> the free port it got here. */
  ports: Map<number, number>;
  /** Client and monitor ports here (the top-level `listen` and `http`). */
  client: number;
  monitor: number;
  dir: string;
}

const ADDRESS = /([A-Za-z0-9][A-Za-z0-9.-]*):(\d{2,5})\b/g;

/** The top-level `listen` or `http` address, through a variable if it names one. */
function topLevel(text: string, key: 'listen' | 'http'): string {
  const m = new RegExp(`^${key}\\s*[:=]\\s*"?([^"\\s]+)"?`, 'm').exec(text);
  if (!m) throw new Error(`no top-level ${key}`);
  if (!m[1]!.startsWith('$')) return m[1]!;
  const def = new RegExp(`^\\s*${m[1]!.slice(1)}\\s*[:=]\\s*"?([^"\\s]+)"?`, 'm').exec(text);
  if (!def) throw new Error(`${key} names an undefined variable ${m[1]}`);
  return def[1]!;
}

/** host:port a server listens on: `listen:`/`http:` lines, directly or through a variable they name. */
function selfAddresses(text: string): Set<string> {
  const self = new Set<string>();
  const vars = new Set<string>();
  for (const m of text.matchAll(/^\s*(?:listen|http)\s*[:=]\s*(\S+)/gm)) {
    const v = m[1]!.replace(/^"|"$/g, '');
    if (v.startsWith('$')) vars.add(v.slice(1));
    else self.add(v);
  }
  for (const name of vars) {
    const def = new RegExp(`^\\s*${name}\\s*[:=]\\s*"?([^"\\s]+)"?`, 'm').exec(text);
    if (def) self.add(def[1]!);
  }
  return self;
}

export async function renderManifest(servers: ManifestServer[]): Promise<RenderedServer[]> {
  const dropSync = !supportsSyncAlways();
  const out: RenderedServer[] = [];
  for (const s of servers) {
    const ports = new Map<number, number>();
    for (const a of selfAddresses(s.text)) ports.set(Number(a.split(':').pop()), await freePort());
    const port = (key: 'listen' | 'http') => ports.get(Number(topLevel(s.text, key).split(':').pop()))!;
    out.push({
      ...s,
      rendered: '',
      ports,
      client: port('listen'),
      monitor: port('http'),
      dir: mkdtempSync(join(tmpdir(), `mmm-manifest-${s.name}-`)),
    });
  }
  try {
    renderAll(out, dropSync);
  } catch (err) {
    for (const s of out) rmSync(s.dir, { recursive: true, force: true });
    throw err;
  }
  return out;
}

function renderAll(out: RenderedServer[], dropSync: boolean): void {
  const selfOf = new Map(out.map((s) => [s, selfAddresses(s.text)]));
  for (const s of out) {
    const self = selfOf.get(s)!;
    const rendered = s.text.replace(ADDRESS, (whole, host: string, port: string) => {
      const p = Number(port);
      if (self.has(whole)) return `127.0.0.1:${s.ports.get(p)}`;
      // Another server by its literal listen address or by name; this one by its own name (a route to itself).
      const target = out.filter(
        (o) => o.ports.has(p) && ((o !== s && selfOf.get(o)!.has(whole)) || (o.aliases ?? []).includes(host)),
      );
      if (target.length !== 1) {
        throw new Error(
          `${s.name}: ${whole} names ${target.length === 0 ? 'no server' : 'several servers'} of this manifest`,
        );
      }
      return `127.0.0.1:${target[0]!.ports.get(p)}`;
    });
    s.rendered = rendered
      .replace(/^(\s*store_dir\s*[:=]\s*).*$/m, `$1${JSON.stringify(join(s.dir, 'js'))}`)
      .replace(dropSync ? /^\s*sync_interval\s*:.*$/m : /$^/, '');
    mkdirSync(join(s.dir, 'js'), { recursive: true });
    writeFileSync(join(s.dir, 'nats.conf'), s.rendered);
  }
}

export interface Running {
  server: RenderedServer;
  proc: ChildProcess;
  output: () => string;
  url: string;
  kill(): Promise<void>;
}

export function startRendered(s: RenderedServer): Running {
  const proc = spawn('nats-server', ['-c', join(s.dir, 'nats.conf')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...s.env },
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-8192);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  return {
    server: s,
    proc,
    output: () => out,
    url: `nats://127.0.0.1:${s.client}`,
    kill: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGKILL');
      await gone;
    },
  };
}

/** Polls a monitor endpoint until `ok` says yes; fails with the server's own output. */
export async function waitMonitor(r: Running, path: string, ok: (body: unknown) => boolean, ms = 60_000) {
  await waitFor(
    `${r.server.name} ${path}`,
    async () => {
      if (r.proc.exitCode !== null) throw new Error(`exited: ${r.output()}`);
      const res = await fetch(`http://127.0.0.1:${r.server.monitor}${path}`, { signal: AbortSignal.timeout(2000) });
      return res.ok && ok(await res.json());
    },
    ms,
    250,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n--- ${r.server.name} ---\n${r.output()}\n--- config ---\n${r.server.rendered}`);
  });
}

export async function disposeAll(running: Running[]): Promise<void> {
  await Promise.all(running.map((r) => r.kill()));
  for (const r of running) rmSync(r.server.dir, { recursive: true, force: true });
}
