import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, httpOk, requireBinary, ServerProcess, supportsSyncAlways } from './proc.js';

export interface NatsServerOptions {
  name?: string;
  /** JetStream domain (a leaf's site id, or "hub"). */
  domain?: string;
  /** Accept leafnode connections on a free port. */
  leafListen?: boolean;
  /**
   * Do not tell leaves about the other cluster nodes' leafnode URLs (a leaf would otherwise add them to its remote
   * and bypass a relay in front of the hub).
   */
  leafNoAdvertise?: boolean;
  /** The leafnode address this server tells leaves about (its own INFO carries it even with no_advertise). */
  leafAdvertise?: string;
  /** Leafnode remotes (URLs of hubs' leafnode ports), one remote per URL. */
  remotes?: string[];
  /**
   * One leafnode remote that fails over between these URLs (every node of a hub cluster): the leaf keeps a
   * single link and moves it to another node when the one it is on dies.
   */
  remoteUrls?: string[];
  /** Join a cluster: the route listen port and every node's route URL (its own included, which it skips). */
  cluster?: { name: string; port: number; routes: string[] };
  /** Extra config text appended verbatim (accounts, authorization…). */
  extraConfig?: string;
  /** Remote entry options appended inside each remote block, e.g. `credentials: "..."`. */
  remoteExtra?: string;
  /** Reuse a data directory (a restarted server keeps its streams). */
  dir?: string;
}

export interface NatsServer {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly leafPort?: number;
  readonly dir: string;
  readonly configFile: string;
  readonly process: ServerProcess;
  get pid(): number | undefined;
  /** kill -9 (or another signal) by pid. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start again with the same config and data after a kill or stop. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Stop and delete the data directory. */
  dispose(): Promise<void>;
}

/** Starts a real nats-server with JetStream (file storage, sync always) on free loopback ports. */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const binary = requireBinary('nats-server', 'nats-server');
  const name = opts.name ?? 'nats';
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), `mmm-${name}-`));
  mkdirSync(join(dir, 'js'), { recursive: true });
  const [port, monitorPort, leafPort] = await Promise.all([
    freePort(),
    freePort(),
    opts.leafListen ? freePort() : undefined,
  ]);
  const lines = [
    `server_name: ${JSON.stringify(name)}`,
    `listen: 127.0.0.1:${port}`,
    `http: 127.0.0.1:${monitorPort}`,
    'jetstream {',
    `  store_dir: ${JSON.stringify(join(dir, 'js'))}`,
    supportsSyncAlways() ? '  sync_interval: always' : '',
    opts.domain ? `  domain: ${opts.domain}` : '',
    '}',
  ];
  if (leafPort)
    lines.push(
      'leafnodes {',
      `  listen: 127.0.0.1:${leafPort}`,
      opts.leafNoAdvertise ? '  no_advertise: true' : '',
      opts.leafAdvertise ? `  advertise: ${JSON.stringify(opts.leafAdvertise)}` : '',
      '}',
    );
  if (opts.remotes?.length || opts.remoteUrls?.length) {
    lines.push('leafnodes {', '  reconnect: 1', '  remotes: [');
    for (const url of opts.remotes ?? []) lines.push(`    { url: ${JSON.stringify(url)} ${opts.remoteExtra ?? ''} }`);
    if (opts.remoteUrls?.length)
      lines.push(`    { urls: ${JSON.stringify(opts.remoteUrls)} ${opts.remoteExtra ?? ''} }`);
    lines.push('  ]', '}');
  }
  if (opts.cluster) {
    lines.push(
      'cluster {',
      `  name: ${opts.cluster.name}`,
      `  listen: 127.0.0.1:${opts.cluster.port}`,
      `  routes: ${JSON.stringify(opts.cluster.routes)}`,
      '}',
    );
  }
  if (opts.extraConfig) lines.push(opts.extraConfig);
  const configFile = join(dir, 'nats.conf');
  writeFileSync(configFile, `${lines.filter(Boolean).join('\n')}\n`);
  const proc = new ServerProcess(name, binary, ['-c', configFile], () =>
    httpOk(`http://127.0.0.1:${monitorPort}/healthz?js-enabled-only=true`),
  );
  await proc.start();
  return {
    name,
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorPort,
    leafPort,
    dir,
    configFile,
    process: proc,
    get pid() {
      return proc.pid;
    },
    kill: (signal = 'SIGKILL') => proc.kill(signal),
    restart: () => proc.restart(),
    stop: () => proc.stop(),
    dispose: async () => {
      await proc.stop();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface HubAndLeaves {
  hub: NatsServer;
  leaves: Record<string, NatsServer>;
  dispose(): Promise<void>;
}

/**
 * A hub (JetStream domain "hub", accepting leafnodes) and one leaf per site (JetStream domain = site id),
 * as deployed: agents publish to their leaf, the hub stream sources every site stream.
 */
export async function startHubAndLeaves(sites: string[] = ['site1']): Promise<HubAndLeaves> {
  const hub = await startNatsServer({ name: 'hub', domain: 'hub', leafListen: true });
  const leaves: Record<string, NatsServer> = {};
  try {
    for (const site of sites) {
      leaves[site] = await startNatsServer({
        name: `leaf-${site}`,
        domain: site,
        remotes: [`nats-leaf://127.0.0.1:${hub.leafPort}`],
      });
    }
  } catch (err) {
    await Promise.all([hub, ...Object.values(leaves)].map((s) => s.dispose()));
    throw err;
  }
  return {
    hub,
    leaves,
    dispose: async () => {
      await Promise.all(Object.values(leaves).map((s) => s.dispose()));
      await hub.dispose();
    },
  };
}

/** Leafnode connection count from the monitor port: the link is up when > 0. */
export async function leafConnections(server: NatsServer): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${server.monitorPort}/leafz`);
  const body = (await res.json()) as { leafnodes?: number };
  return body.leafnodes ?? 0;
}
