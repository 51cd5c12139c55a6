import { connect, type NatsConnection } from 'nats';
import { type NatsServer, startNatsServer } from './nats-server.js';
import { freePort, waitFor } from './proc.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

export interface HubClusterOptions {
  /** Hub nodes (3 for R3 streams: JetStream needs every replica's node up to create one, two to write). */
  nodes?: number;
  /** One leaf per site (JetStream domain = site id), its single remote listing every hub node's leaf URL. */
  sites?: string[];
  /** Cluster name (also the prefix of each node's server_name: hub-0, hub-1, ...). */
  name?: string;
  /** Extra config text appended to every hub node's config (accounts, authorization...). */
  hubExtraConfig?: string;
  /** Extra config text appended to every leaf's config. */
  leafExtraConfig?: string;
  /** Options appended inside each leaf's remote block, e.g. `credentials: "..."`. */
  remoteExtra?: string;
  /**
   * Sites whose leaf reaches the hub nodes through TCP relays, so `cutSite` can take the site off every hub node
   * while the leaf (and its publishers) keep running.
   */
  cuttableSites?: string[];
}

/** One hub node: a NatsServer that is also a cluster member. */
export interface HubNode extends NatsServer {
  readonly index: number;
  readonly clusterPort: number;
  readonly leafPort: number;
  /** The process is up (not killed or stopped). */
  get running(): boolean;
}

export interface HubCluster {
  readonly nodes: readonly HubNode[];
  readonly leaves: Record<string, NatsServer>;
  /** Client URLs of every hub node, for `connect({ servers })` and a service's `[nats] servers`. */
  readonly urls: string[];
  /** Leafnode URLs of every hub node (`nats-leaf://...`), as a site's remote lists them. */
  readonly leafUrls: string[];
  /** The node with this server_name. */
  node(name: string): HubNode;
  /** The JetStream meta leader as one node sees it (undefined while there is none). */
  metaLeader(): Promise<HubNode | undefined>;
  /** Waits until a meta leader is elected and every running node agrees on it. */
  waitForMetaLeader(timeoutMs?: number): Promise<HubNode>;
  /** The node that leads this stream, or undefined while none does (e.g. right after its leader died). */
  streamLeader(stream: string): Promise<HubNode | undefined>;
  /** The node that leads this consumer, or undefined while none does. */
  consumerLeader(stream: string, consumer: string): Promise<HubNode | undefined>;
  /** Waits until the stream has a leader and, when `current` is set, every replica is current. */
  waitForStreamLeader(stream: string, opts?: { current?: boolean; timeoutMs?: number }): Promise<HubNode>;
  /** Cuts a cuttable site's links to every hub node (the leaf keeps running and buffering). */
  cutSite(site: string): Promise<void>;
  /** Lets a cut site reach the hub nodes again (the leaf reconnects by itself). */
  healSite(site: string): Promise<void>;
  /**
   * Waits until every running node's `/healthz` is ok: by default the full check (every stream and consumer replica
   * current after a restart); with `serverOnly`, only that each node runs JetStream and follows the meta leader.
   * nats-server 2.9 leaves an idle consumer's replica on a node back from kill -9 "not current" until the consumer
   * moves again, so a test that restarts a node while a consumer is idle asks for `serverOnly` and checks the streams
   * it needs with `waitForStreamLeader(..., { current: true })`.
   */
  waitForHealthy(timeoutMs?: number, opts?: { serverOnly?: boolean }): Promise<void>;
  dispose(): Promise<void>;
}

interface Jsz {
  meta_cluster?: { leader?: string; cluster_size?: number };
}

/**
 * A real JetStream cluster of hub nodes (nats-server processes on free ports, routes between all of them, one
 * JetStream domain "hub", a leafnode listener on each) and one leaf per site whose remote lists every node. Each node
 * keeps its data dir across kill/restart, as a node on its own machine would.
 */
export async function startHubCluster(opts: HubClusterOptions = {}): Promise<HubCluster> {
  const count = opts.nodes ?? 3;
  const name = opts.name ?? 'hub';
  const clusterPorts = await Promise.all(Array.from({ length: count }, () => freePort()));
  const routes = clusterPorts.map((p) => `nats-route://127.0.0.1:${p}`);
  const cuttable = (opts.cuttableSites?.length ?? 0) > 0;
  // A leaf adds the leafnode address a hub node announces to its remote's URLs: with relays in front of the hub that
  // address must lead nowhere, or a cut site would reach the hub directly. A port nothing listens on.
  const deadPort = cuttable ? await freePort() : 0;
  const started = await Promise.allSettled(
    clusterPorts.map((port, index) =>
      // Concurrently: a clustered node reports JetStream ready only once it has routes to its peers.
      startNatsServer({
        name: `${name}-${index}`,
        domain: 'hub',
        leafListen: true,
        leafNoAdvertise: cuttable,
        leafAdvertise: cuttable ? `127.0.0.1:${deadPort}` : undefined,
        cluster: { name, port, routes },
        extraConfig: opts.hubExtraConfig,
      }).then((s) => toHubNode(s, index, port)),
    ),
  );
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((n) => n.dispose()));
    throw failed.reason;
  }
  const leafUrls = nodes.map((n) => `nats-leaf://127.0.0.1:${n.leafPort}`);
  const leaves: Record<string, NatsServer> = {};
  const proxies: Record<string, TcpProxy[]> = {};
  const disposeAll = async () => {
    await Promise.all(Object.values(leaves).map((s) => s.dispose()));
    await Promise.all(Object.values(proxies).flatMap((ps) => ps.map((p) => p.close())));
    await Promise.all(nodes.map((n) => n.dispose()));
  };
  try {
    for (const site of opts.sites ?? []) {
      let urls = leafUrls;
      if (opts.cuttableSites?.includes(site)) {
        proxies[site] = await Promise.all(nodes.map((n) => startTcpProxy(n.leafPort)));
        urls = proxies[site].map((p) => `nats-leaf://127.0.0.1:${p.port}`);
      }
      leaves[site] = await startNatsServer({
        name: `leaf-${site}`,
        domain: site,
        remoteUrls: urls,
        remoteExtra: opts.remoteExtra,
        extraConfig: opts.leafExtraConfig,
      });
    }
  } catch (err) {
    await disposeAll();
    throw err;
  }
  const cluster = new Cluster(nodes, leaves, leafUrls, proxies, disposeAll);
  try {
    await cluster.waitForMetaLeader(30_000);
  } catch (err) {
    await disposeAll();
    throw err;
  }
  return cluster;
}

function toHubNode(s: NatsServer, index: number, clusterPort: number): HubNode {
  return {
    name: s.name,
    url: s.url,
    port: s.port,
    monitorPort: s.monitorPort,
    leafPort: s.leafPort as number,
    dir: s.dir,
    configFile: s.configFile,
    process: s.process,
    index,
    clusterPort,
    get pid() {
      return s.pid;
    },
    get running() {
      return s.process.running;
    },
    kill: (signal) => s.kill(signal),
    restart: () => s.restart(),
    stop: () => s.stop(),
    dispose: () => s.dispose(),
  };
}

class Cluster implements HubCluster {
  readonly urls: string[];

  constructor(
    readonly nodes: readonly HubNode[],
    readonly leaves: Record<string, NatsServer>,
    readonly leafUrls: string[],
    private readonly proxies: Record<string, TcpProxy[]>,
    readonly dispose: () => Promise<void>,
  ) {
    this.urls = nodes.map((n) => n.url);
  }

  private relays(site: string): TcpProxy[] {
    const ps = this.proxies[site];
    if (!ps) throw new Error(`site ${site} was not started among cuttableSites`);
    return ps;
  }

  async cutSite(site: string): Promise<void> {
    await Promise.all(this.relays(site).map((p) => p.cut()));
  }

  async healSite(site: string): Promise<void> {
    await Promise.all(this.relays(site).map((p) => p.heal()));
  }

  node(name: string): HubNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no hub node named ${name} (nodes: ${this.nodes.map((x) => x.name).join(', ')})`);
    return n;
  }

  private running(): HubNode[] {
    return this.nodes.filter((n) => n.running);
  }

  private async jsz(node: HubNode): Promise<Jsz> {
    const res = await fetch(`http://127.0.0.1:${node.monitorPort}/jsz`, { signal: AbortSignal.timeout(2000) });
    return (await res.json()) as Jsz;
  }

  async metaLeader(): Promise<HubNode | undefined> {
    for (const node of this.running()) {
      try {
        const leader = (await this.jsz(node)).meta_cluster?.leader;
        if (leader) return this.node(leader);
      } catch {
        // that node is not answering (just killed or starting): ask the next one
      }
    }
    return undefined;
  }

  async waitForMetaLeader(timeoutMs = 30_000): Promise<HubNode> {
    return waitFor(
      'a JetStream meta leader every running hub node agrees on',
      async () => {
        const views = await Promise.all(this.running().map(async (n) => (await this.jsz(n)).meta_cluster?.leader));
        const first = views[0];
        return first && views.every((v) => v === first) ? this.node(first) : undefined;
      },
      timeoutMs,
      200,
    );
  }

  /** A short-lived client on every running node; JetStream API calls answer within 2 s or fail. */
  private async withClient<T>(fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
    const nc = await connect({ servers: this.running().map((n) => n.url), timeout: 2000 });
    try {
      return await fn(nc);
    } finally {
      await nc.close();
    }
  }

  async streamLeader(stream: string): Promise<HubNode | undefined> {
    try {
      const info = await this.withClient(async (nc) =>
        (await nc.jetstreamManager({ timeout: 2000 })).streams.info(stream),
      );
      const leader = info.cluster?.leader;
      return leader ? this.node(leader) : undefined;
    } catch {
      return undefined;
    }
  }

  async consumerLeader(stream: string, consumer: string): Promise<HubNode | undefined> {
    try {
      const info = await this.withClient(async (nc) =>
        (await nc.jetstreamManager({ timeout: 2000 })).consumers.info(stream, consumer),
      );
      const leader = info.cluster?.leader;
      return leader ? this.node(leader) : undefined;
    } catch {
      return undefined;
    }
  }

  async waitForStreamLeader(stream: string, opts: { current?: boolean; timeoutMs?: number } = {}): Promise<HubNode> {
    return waitFor(
      `a leader for stream ${stream}${opts.current ? ' with every replica current' : ''}`,
      async () => {
        const info = await this.withClient(async (nc) =>
          (await nc.jetstreamManager({ timeout: 2000 })).streams.info(stream),
        );
        const leader = info.cluster?.leader;
        if (!leader) return undefined;
        if (opts.current) {
          const replicas = info.cluster?.replicas ?? [];
          if (replicas.length < info.config.num_replicas - 1 || !replicas.every((r) => r.current)) return undefined;
        }
        return this.node(leader);
      },
      opts.timeoutMs ?? 30_000,
      250,
    );
  }

  async waitForHealthy(timeoutMs = 30_000, opts: { serverOnly?: boolean } = {}): Promise<void> {
    const query = opts.serverOnly ? '?js-server-only=true' : '';
    await waitFor(
      `every running hub node healthy${opts.serverOnly ? ' (server only)' : ''}`,
      async () => {
        const bad = await Promise.all(
          this.running().map(async (n) => {
            try {
              const res = await fetch(`http://127.0.0.1:${n.monitorPort}/healthz${query}`, {
                signal: AbortSignal.timeout(2000),
              });
              return res.ok ? undefined : `${n.name}: ${res.status} ${await res.text()}`;
            } catch (err) {
              return `${n.name}: ${(err as Error).message}`;
            }
          }),
        );
        const unhealthy = bad.filter(Boolean);
        // Thrown, not returned: waitFor puts the last error in its timeout message, so a failure says which node
        // and what its /healthz answered.
        if (unhealthy.length > 0) throw new Error(unhealthy.join('; '));
        return true;
      },
      timeoutMs,
      250,
    );
  }
}
