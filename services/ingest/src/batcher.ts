import type { JsMsg } from 'nats';

/**
 * Collects messages from a consume() iterator into batches: a batch is ready when it holds `max` messages or `ms`
 * passed since its first message arrived. The iterator keeps pulling while a batch is stored; the consumer's
 * max_ack_pending bounds how much waits here.
 */
export class Batcher {
  private readonly queue: JsMsg[] = [];
  private readonly received = new WeakMap<JsMsg, number>();
  private wake: (() => void) | undefined;
  private ended = false;

  constructor(
    private max: number,
    private readonly ms: number,
  ) {}

  /** Changes the batch size from the next batch on. */
  resize(max: number): void {
    this.max = Math.max(1, Math.floor(max));
  }

  get size(): number {
    return this.max;
  }

  push(m: JsMsg): void {
    this.received.set(m, Date.now());
    this.queue.push(m);
    if (this.queue.length >= this.max || this.queue.length === 1) this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  /** When the oldest of these messages reached this copy (epoch ms; now for messages it never saw). */
  oldestReceipt(msgs: readonly JsMsg[]): number {
    let oldest = Date.now();
    for (const m of msgs) oldest = Math.min(oldest, this.received.get(m) ?? oldest);
    return oldest;
  }

  /** Messages waiting for the next batch (kept alive with in-progress acks while a batch waits for the store). */
  get waiting(): readonly JsMsg[] {
    return this.queue;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** The next batch, or an empty one when stopped or the iterator ended. */
  async next(signal: AbortSignal): Promise<JsMsg[]> {
    while (this.queue.length === 0 && !this.ended && !signal.aborted) await this.sleep(60_000, signal);
    const deadline = Date.now() + this.ms;
    while (this.queue.length < this.max && !this.ended && !signal.aborted && Date.now() < deadline) {
      await this.sleep(deadline - Date.now(), signal);
    }
    return this.queue.splice(0, this.max);
  }
}
