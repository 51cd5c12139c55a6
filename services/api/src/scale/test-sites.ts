// Test support for the scale tests: a hub cluster provisioned as `mmm streams provision --replicas 3` does it, site
// publishers that speak the agent's contract on their own leaf, and the API run as a real `mmm api` process.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DUPLICATE_WINDOW_MS, type MeshEvent, streams, subjects } from '@mmm/schemas';
import { freePort, type HubCluster, waitFor } from '@mmm/testkit';
import { connect, DiscardPolicy, nanos, RetentionPolicy, StorageType } from 'nats';
import { msgIdOf, rx, status, subjectOf } from '../testing.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const MAIN = join(ROOT, 'services/cli/src/main.ts');

/** MESH (R3) sourcing every site's stream from its leaf's domain, and MESH_DERIVED (R3), as provisioning makes them. */
export async function provisionCluster(hub: HubCluster, sites: readonly string[]): Promise<void> {
  const nc = await connect({ servers: hub.urls });
  try {
    const jsm = await nc.jetstreamManager({ timeout: 20_000 });
    const common = {
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: 3,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    };
    await jsm.streams.add({
      name: streams.hub,
      ...common,
      sources: sites.map((s) => ({
        name: streams.site(s),
        external: { api: `$JS.${streams.domain(s)}.API`, deliver: '' },
      })),
    });
    await jsm.streams.add({ name: streams.derived, subjects: [...streams.derivedSubjects], ...common });
  } finally {
    await nc.close();
  }
}

export interface SiteLoad {
  site: string;
  agents: string[];
  /** Receptions per agent; the first `shared` packets are heard by every agent of the site (several receptions each). */
  receptionsPerAgent: number;
  shared?: number;
}

/** What a publisher put on its site's leaf: the events, in order, each under its contract Msg-Id. */
export function siteEvents(load: SiteLoad, base: number): MeshEvent[] {
  const out: MeshEvent[] = [];
  const now = Date.now();
  load.agents.forEach((agent, a) => {
    out.push(status(agent, { site: load.site, at: now - 1000 }));
    for (let i = 0; i < load.receptionsPerAgent; i++) {
      const shared = i < (load.shared ?? 0);
      out.push(
        rx(
          'text',
          { text: `${load.site}/${agent}/${i}` },
          {
            site: load.site,
            agent,
            from: base + (i % 17),
            // A shared packet has one id at every agent of the site: one packet, several receptions.
            id: shared ? base * 10 + i : base * 10 + 100_000 * (a + 1) + i,
            at: now - 500 + (i % 100),
            snr: 5 + a,
          },
        ),
      );
    }
  });
  return out;
}

/** Publishes on a site's leaf as the agent does: its site stream (file, deduped) and every event with its Msg-Id. */
export async function publishSite(leafUrl: string, site: string, events: readonly MeshEvent[]): Promise<void> {
  const nc = await connect({ servers: leafUrl });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({
      name: streams.site(site),
      subjects: [subjects.siteAll(site)],
      storage: StorageType.File,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    });
    const js = nc.jetstream();
    for (let i = 0; i < events.length; i += 200) {
      await Promise.all(
        events.slice(i, i + 200).map((ev) => js.publish(subjectOf(ev), JSON.stringify(ev), { msgID: msgIdOf(ev) })),
      );
    }
  } finally {
    await nc.close();
  }
}

export interface ApiProcess {
  proc: ChildProcess;
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

/** A real `mmm api` process on every hub URL, with its own projection database (no shared history file). */
export async function startApiProcess(dir: string, id: string, hub: HubCluster): Promise<ApiProcess> {
  const port = await freePort();
  const file = join(dir, `api-${id}.ini`);
  writeFileSync(
    file,
    `[server]\nport = ${port}\ninstance_id = ${id}\n[nats]\nurl = ${hub.urls.join(',')}\n[database]\npath = ${join(dir, `api-${id}.db`)}\n[history]\nsqlite_path = ${join(dir, 'no-history.db')}\n[web]\ndir = ${join(dir, 'no-web')}\n`,
  );
  const proc = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', MAIN, 'api', '--config', file], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MMM_FROM_SOURCE: '1' },
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  proc.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    `api ${id} ready`,
    async () => {
      if (proc.exitCode !== null) throw new Error(`api ${id} exited:\n${out}`);
      return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })).ok;
    },
    120_000,
    500,
  );
  return {
    proc,
    url,
    output: () => out,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(t);
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
export async function json(url: string): Promise<any> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}
