import { type JetStreamClient, type MsgHdrs, headers as natsHeaders, type PubAck } from 'nats';
import type { Logger } from 'pino';

export interface PublisherOptions {
  /** Publishes awaiting an ack at once; unbounded publishes time out (environment notes). */
  window?: number;
  /** Per-attempt ack timeout. */
  ackTimeoutMs?: number;
  /** Backoff between retries of one message: doubles from min to max. */
  retryMinMs?: number;
  retryMaxMs?: number;
  log?: Logger;
  /** Called for each failed attempt (for metrics). */
  onRetry?: (subject: string, err: unknown) => void;
}

export const DEFAULT_PUBLISH_WINDOW = 256;

export class PublisherClosedError extends Error {
  override readonly name = 'PublisherClosedError';
}

/**
 * JetStream publisher with a bounded in-flight window. A failed publish is retried with the same Msg-Id until it
 * is acked (the stream's duplicate window makes a retry of an already stored message a no-op), so nothing handed
 * to it is dropped while the process lives. Callers that produce faster than the broker acks wait on `publish`.
 */
export class JetStreamPublisher {
  private inFlightCount = 0;
  private waiters: (() => void)[] = [];
  private closed = false;
  private readonly window: number;
  private readonly idle: (() => void)[] = [];
  published = 0;
  retries = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly opts: PublisherOptions = {},
  ) {
    this.window = opts.window ?? DEFAULT_PUBLISH_WINDOW;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Messages accepted but not yet acked, including those waiting for a window slot. */
  get pending(): number {
    return this.inFlightCount + this.waiters.length;
  }

  /**
   * Resolves when the message is stored (acked). The returned promise only rejects if the publisher is closed
   * before the message was stored.
   */
  async publish(subject: string, data: Uint8Array, msgId: string, hdrs?: Record<string, string>): Promise<PubAck> {
    if (this.closed) throw new PublisherClosedError('publisher is closed');
    while (this.inFlightCount >= this.window) await new Promise<void>((r) => this.waiters.push(r));
    this.inFlightCount++;
    try {
      return await this.publishWithRetry(subject, data, msgId, hdrs);
    } finally {
      this.inFlightCount--;
      this.waiters.shift()?.();
      if (this.inFlightCount === 0 && this.waiters.length === 0) for (const r of this.idle.splice(0)) r();
    }
  }

  private async publishWithRetry(
    subject: string,
    data: Uint8Array,
    msgId: string,
    hdrs?: Record<string, string>,
  ): Promise<PubAck> {
    let delay = this.opts.retryMinMs ?? 100;
    const max = this.opts.retryMaxMs ?? 5_000;
    for (;;) {
      if (this.closed) throw new PublisherClosedError(`publisher closed before ${msgId} was stored`);
      try {
        let h: MsgHdrs | undefined;
        if (hdrs) {
          h = natsHeaders();
          for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
        }
        const ack = await this.js.publish(subject, data, {
          msgID: msgId,
          headers: h,
          timeout: this.opts.ackTimeoutMs ?? 5_000,
        });
        this.published++;
        return ack;
      } catch (err) {
        this.retries++;
        this.opts.onRetry?.(subject, err);
        this.opts.log?.debug({ err, subject, msgId }, 'publish failed, retrying with the same Msg-Id');
        await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
        delay = Math.min(max, delay * 2);
      }
    }
  }

  /** Resolves when nothing is in flight or waiting. */
  drain(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  close(): void {
    this.closed = true;
  }
}
