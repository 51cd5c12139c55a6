import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { ensureSiteStream, provisionHub } from '@mmm/agent';
import { streams } from '@mmm/schemas';
import { type ClickHouseServer, type HubCluster, startClickHouse, startHubCluster, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { ServiceProcess } from './service-process.js';

export interface ClusterStackOptions {
  sites: string[];
  cuttableSites?: string[];
  ingestCopies: number;
  apiCopies: number;
}

const DATABASE = 'cluster';
export const INGEST_DURABLE = 'ingest';

/**
 * The deployed shape on one machine: a three-node hub (R3 streams, `mmm streams provision --replicas 3`'s code),
 * one leaf per site listing every hub node, ClickHouse, N `mmm ingest` copies sharing one durable and N `mmm api`
 * copies with their own projections, every service given all hub URLs.
 */
export class ClusterStack {
  private sampler: NodeJS.Timeout | undefined;
  /** (time, rows in the store) every 250 ms: ingest progress. */
  readonly samples: [number, number][] = [];

  private constructor(
    readonly hub: HubCluster,
    readonly ch: ClickHouseServer,
    readonly store: ClickHouseClient,
    readonly hubNc: NatsConnection,
    readonly ingest: ServiceProcess[],
    readonly api: ServiceProcess[],
    readonly dir: string,
  ) {}

  static async start(o: ClusterStackOptions): Promise<ClusterStack> {
    const dir = mkdtempSync(join(tmpdir(), 'mmm-cluster-'));
    const [hub, ch] = await Promise.all([
      startHubCluster({ nodes: 3, sites: o.sites, cuttableSites: o.cuttableSites }),
      startClickHouse(),
    ]);
    for (const site of o.sites) {
      const nc = await connect({ servers: hub.leaves[site]!.url });
      await ensureSiteStream(await nc.jetstreamManager(), site);
      await nc.close();
    }
    const hubNc = await connect({ servers: hub.urls, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    await provisionHub(await hubNc.jetstreamManager(), { sites: o.sites, replicas: 3 });
    const natsUrl = hub.urls.join(',');
    const ingest: ServiceProcess[] = [];
    for (let i = 0; i < o.ingestCopies; i++) {
      const cfg = join(dir, `ingest-${i}.ini`);
      writeFileSync(
        cfg,
        `[nats]\nurl = ${natsUrl}\n[clickhouse]\nurl = ${ch.url}\ndatabase = ${DATABASE}\n[ingest]\ndurable = ${INGEST_DURABLE}\nops_port = 0\nbatch_max = 2000\nbatch_ms = 200\nack_wait = 30\n`,
      );
      ingest.push(new ServiceProcess(`ingest-${i}`, 'ingest', cfg, join(dir, `ingest-${i}.pid`), 'ingest running'));
    }
    const api: ServiceProcess[] = [];
    for (let i = 0; i < o.apiCopies; i++) {
      const d = join(dir, `api-${i}`);
      mkdirSync(d);
      const cfg = join(dir, `api-${i}.ini`);
      writeFileSync(
        cfg,
        `[server]\nport = 0\ninstance_id = c${i}\n[nats]\nurl = ${natsUrl}\n[database]\npath = ${join(d, 'api.db')}\n[web]\ndir = ${join(d, 'no-web')}\n[history]\nsqlite_path = ${join(d, 'history.db')}\n`,
      );
      api.push(new ServiceProcess(`api-${i}`, 'api', cfg, join(dir, `api-${i}.pid`), 'api listening'));
    }
    // Ingest creates the store's tables: the first copy alone, then the rest together.
    if (ingest[0]) await ingest[0].start();
    await Promise.all([...ingest.slice(1), ...api].map((p) => p.start()));
    const store = createClient({
      url: ch.url,
      database: DATABASE,
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    return new ClusterStack(hub, ch, store, hubNc, ingest, api, dir);
  }

  apiUrl(i: number): string {
    return `http://127.0.0.1:${this.api[i]!.readyLine.port}`;
  }

  async storeCounts(): Promise<{ n: number; ids: number }> {
    const rs = await this.store.query({
      query: 'SELECT count() AS n, uniqExact(msg_id) AS ids FROM receptions',
      format: 'JSONEachRow',
    });
    const [row] = (await rs.json()) as { n: number; ids: number }[];
    return row!;
  }

  /** Receptions each API copy counts (`/api/stats` packets.total: one per new reception in its projection). */
  async apiTotals(): Promise<number[]> {
    return Promise.all(
      this.api.map(async (_, i) => {
        const res = await fetch(`${this.apiUrl(i)}/api/stats`, { signal: AbortSignal.timeout(5000) });
        return ((await res.json()) as { packets: { total: number } }).packets.total;
      }),
    );
  }

  /** Per agent (`site/agent`) receptions one API copy counts. */
  async apiAgents(i: number): Promise<Map<string, number>> {
    const res = await fetch(`${this.apiUrl(i)}/api/agents`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { agents: { site?: string; agent_id: string; packet_count: number }[] };
    return new Map(body.agents.map((a) => [`${a.site}/${a.agent_id}`, a.packet_count]));
  }

  /** Every durable on MESH has nothing left to deliver or to be acked: no redelivery can change a count after this. */
  async waitDrained(timeoutMs: number): Promise<void> {
    const durables = [INGEST_DURABLE, ...this.api.map((_, i) => `api-c${i}`)];
    await waitFor(
      'every MESH consumer drained and acked',
      async () => {
        const jsm = await this.hubNc.jetstreamManager({ timeout: 3000 });
        for (const d of durables) {
          const info = await jsm.consumers.info(streams.hub, d);
          if (info.num_pending > 0 || info.num_ack_pending > 0) return false;
        }
        return true;
      },
      timeoutMs,
      500,
    );
  }

  startSampling(): void {
    this.sampler ??= setInterval(() => {
      this.storeCounts()
        .then(({ n }) => this.samples.push([Date.now(), n]))
        .catch(() => undefined);
    }, 250);
  }

  /** The longest time between two increases of the stored count within [from, to] (ms). */
  longestGap(from: number, to: number): number {
    let lastRise = from;
    let prev: number | undefined;
    let longest = 0;
    for (const [t, n] of this.samples) {
      if (t < from) {
        prev = n;
        continue;
      }
      if (t > to) break;
      if (prev !== undefined && n > prev) {
        longest = Math.max(longest, t - lastRise);
        lastRise = t;
      }
      prev = n;
    }
    return Math.max(longest, Math.min(to, this.samples.at(-1)?.[0] ?? to) - lastRise);
  }

  async dispose(): Promise<void> {
    clearInterval(this.sampler);
    // Teardown only: nothing here needs a graceful stop, and a loaded box makes graceful ones slow.
    await Promise.all([...this.ingest, ...this.api].map((p) => p.kill()));
    await this.hubNc.close().catch(() => undefined);
    await this.store.close();
    await Promise.all([...this.hub.nodes, ...Object.values(this.hub.leaves)].map((s) => s.kill('SIGKILL')));
    await Promise.all([this.hub.dispose(), this.ch.dispose()]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
