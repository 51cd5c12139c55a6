import type { JetStreamClient, KV } from 'nats';

/** The one key of the lease bucket: whoever holds it is the only copy that consumes, publishes and checkpoints. */
export const LEASE_KEY = 'writer';
/** JetStream "wrong last sequence": someone else wrote the key since (or it exists when creating). */
const WRONG_LAST_SEQUENCE = 10071;

export interface LeaseHolder {
  readonly holder: string;
  readonly at: number;
}

export interface LeaseOptions {
  bucket: string;
  /** The bucket's max_age: a lease not renewed within this long disappears and a standby can take it. */
  ttlMs: number;
  /** Unique per process (a restarted process is a new holder and waits for the old lease to expire). */
  holder: string;
  replicas: number;
}

/**
 * A writer lease in a JetStream KV bucket whose max_age is the lease's TTL. Taking it is create-if-absent (the key
 * expired or was deleted), keeping it is an update that names the revision we wrote last: both are compare-and-set
 * on the stream's last sequence for the key, decided by the bucket stream's leader, so two copies never both
 * succeed. A holder that cannot renew (partition, paused process) stops writing once its own deadline passes,
 * which is no later than when the server lets a standby take over.
 */
export class WriterLease {
  private revision = 0;
  /** performance.now() until which we may act as the writer; 0 when not held. */
  private validUntil = 0;

  private constructor(
    private readonly kv: KV,
    readonly opts: LeaseOptions,
  ) {}

  static async open(js: JetStreamClient, opts: LeaseOptions): Promise<WriterLease> {
    const kv = await js.views.kv(opts.bucket, { history: 1, ttl: opts.ttlMs, replicas: opts.replicas });
    return new WriterLease(kv, opts);
  }

  /** True while the lease is ours by our own clock: checked before every write. */
  held(): boolean {
    return this.validUntil > 0 && performance.now() < this.validUntil;
  }

  /** Renew every this often: three chances before the TTL runs out. */
  get renewEveryMs(): number {
    return Math.max(250, Math.floor(this.opts.ttlMs / 4));
  }

  private value(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ holder: this.opts.holder, at: Date.now() } satisfies LeaseHolder));
  }

  /**
   * One attempt to take the lease. True when we hold it now. Throws only for broker failures (timeouts, no
   * quorum), which the caller retries.
   */
  async tryAcquire(): Promise<boolean> {
    const started = performance.now();
    try {
      this.revision = await this.kv.create(LEASE_KEY, this.value());
      this.validUntil = started + this.opts.ttlMs;
      return true;
    } catch (err) {
      if (apiCode(err) !== WRONG_LAST_SEQUENCE) throw err;
    }
    // Someone holds it. If it is us (a renewal lost in a leader change), take it back at its revision.
    const e = await this.kv.get(LEASE_KEY);
    if (e?.operation === 'PUT' && e.json<LeaseHolder>().holder === this.opts.holder) {
      this.revision = e.revision;
      return this.renew();
    }
    this.validUntil = 0;
    return false;
  }

  /** Extends the lease. False when someone else holds it now; throws for broker failures (still held until deadline). */
  async renew(): Promise<boolean> {
    const started = performance.now();
    try {
      this.revision = await this.kv.update(LEASE_KEY, this.value(), this.revision);
      this.validUntil = started + this.opts.ttlMs;
      return true;
    } catch (err) {
      if (apiCode(err) !== WRONG_LAST_SEQUENCE) throw err;
      this.validUntil = 0;
      return false;
    }
  }

  /** Current holder as stored (for logs and status). */
  async current(): Promise<LeaseHolder | undefined> {
    const e = await this.kv.get(LEASE_KEY);
    return e?.operation === 'PUT' ? e.json<LeaseHolder>() : undefined;
  }

  /** Gives the lease up at once (clean stop): a standby takes over without waiting for the TTL. */
  async release(): Promise<void> {
    if (this.validUntil === 0) return;
    this.validUntil = 0;
    // Only our own revision is deleted: if someone took over meanwhile, the compare-and-set fails and theirs stays.
    await this.kv.delete(LEASE_KEY, { previousSeq: this.revision }).catch(() => undefined);
  }
}

function apiCode(err: unknown): number | undefined {
  return (err as { api_error?: { err_code?: number } }).api_error?.err_code;
}
