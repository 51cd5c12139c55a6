import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';

export type Layout = 'single' | 'replicated';
export const LAYOUTS: readonly Layout[] = ['single', 'replicated'];

const SETTINGS = { output_format_json_quote_64bit_integers: 0 } as const;

export interface Replica {
  readonly url: string;
  readonly client: ClickHouseClient;
  /** The database and tables exist here (DDL applied since this process started). */
  tablesReady: boolean;
  /** The DDL being applied now, so concurrent callers share one attempt. */
  creating?: Promise<void> | undefined;
}

export interface Credentials {
  readonly database: string;
  readonly user: string;
  readonly password: string;
}

export interface FailoverEvent {
  readonly from: string;
  readonly to: string;
  readonly error: string;
}

/**
 * The servers ingest may write to, one at a time. Writes stay on the current replica until it fails, then move to
 * the next in list order: one writer at a time keeps each batch's lookups and inserts on the same server, which is
 * what makes a batch idempotent (ReplicatedMergeTree replicates asynchronously, so another replica may not have the
 * last batches yet).
 */
export class ReplicaSet {
  readonly replicas: readonly Replica[];
  private index = 0;

  constructor(
    urls: readonly string[],
    creds: Credentials,
    private readonly onFailover?: (e: FailoverEvent) => void,
  ) {
    this.replicas = urls.map((url) => ({
      url,
      tablesReady: false,
      client: createClient({
        url,
        database: creds.database,
        username: creds.user,
        password: creds.password,
        request_timeout: 60_000,
        clickhouse_settings: SETTINGS,
        // Failures surface as StoreError and are logged by ingest with context; the client's own log would repeat them.
        log: { level: ClickHouseLogLevel.OFF },
      }),
    }));
  }

  get size(): number {
    return this.replicas.length;
  }

  get current(): Replica {
    return this.replicas[this.index]!;
  }

  /** Makes a replica current (the first one whose tables were created at start). */
  use(replica: Replica): void {
    this.index = this.replicas.indexOf(replica);
  }

  /** The current replica failed: the next one in the list becomes current. */
  failover(error: unknown): void {
    if (this.replicas.length < 2) return;
    const from = this.current.url;
    this.index = (this.index + 1) % this.replicas.length;
    this.onFailover?.({ from, to: this.current.url, error: (error as Error).message });
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.client.close()));
  }
}

/** `url` as configured: one URL, or with the replicated layout a comma-separated list. */
export function splitUrls(url: string): string[] {
  return url
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u.length > 0);
}
