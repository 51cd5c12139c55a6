import type { WebSocket } from 'ws';
import { type LiveFilter, parseSubscribe } from './filter.js';

/** Sends in flight (handed to the socket, not yet flushed to the kernel) per client. */
const MAX_OUTSTANDING = 16;

/** A message for clients: its type and the JSON members after "type" and "seq", serialised once for all clients. */
export interface OutMsg {
  type: string;
  body: string;
}

export interface ClientHooks {
  snapshot(filter: LiveFilter): OutMsg;
  onResync(): void;
}

/**
 * One live-feed connection. Memory per client is bounded: at most `queueMax` queued messages plus MAX_OUTSTANDING
 * sends inside ws. A client that cannot keep up has its queue dropped, is told `{"type":"resync"}` and gets a fresh
 * snapshot once its socket drained; a client that stops answering pings is terminated.
 */
export class LiveClient {
  filter: LiveFilter = {};
  private queue: string[] = [];
  private outstanding = 0;
  private seq = 0;
  private needResync = false;
  /** Heartbeats sent since the last pong. */
  missed = 0;

  constructor(
    readonly ws: WebSocket,
    private readonly queueMax: number,
    private readonly hooks: ClientHooks,
  ) {
    ws.on('pong', () => {
      this.missed = 0;
    });
    ws.on('message', (data, isBinary) => this.onMessage(isBinary ? null : data.toString()));
  }

  get queued(): number {
    return this.queue.length;
  }

  private compose(m: OutMsg): string {
    const s = this.seq++;
    return m.body ? `{"type":"${m.type}","seq":${s},${m.body}}` : `{"type":"${m.type}","seq":${s}}`;
  }

  /** Queues a message; over the bound the queue is dropped and the client will be resynced. */
  push(m: OutMsg): void {
    if (this.needResync) return;
    if (this.queue.length >= this.queueMax) {
      this.queue = [];
      this.needResync = true;
      this.hooks.onResync();
      this.pump();
      return;
    }
    this.queue.push(this.compose(m));
    this.pump();
  }

  /** Sends a message ahead of anything queued (hello, errors, pong). */
  direct(obj: Record<string, unknown>): void {
    this.sendRaw(JSON.stringify(obj));
  }

  sendSnapshot(): void {
    this.queue = [];
    this.sendRaw(this.compose(this.hooks.snapshot(this.filter)));
  }

  private sendRaw(text: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.outstanding++;
    this.ws.send(text, () => {
      this.outstanding--;
      this.pump();
    });
  }

  private pump(): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.needResync) {
      // Wait until what was handed to the socket has drained: a stalled reader gets nothing more meanwhile.
      if (this.outstanding > 0) return;
      this.needResync = false;
      this.sendRaw(JSON.stringify({ type: 'resync', reason: 'queue overflow' }));
      this.sendSnapshot();
      return;
    }
    while (this.queue.length && this.outstanding < MAX_OUTSTANDING) this.sendRaw(this.queue.shift()!);
  }

  private onMessage(text: string | null): void {
    let msg: unknown;
    try {
      msg = text === null ? undefined : JSON.parse(text);
    } catch {
      msg = undefined;
    }
    const type = typeof msg === 'object' && msg !== null ? (msg as { type?: unknown }).type : undefined;
    if (type === 'ping') this.direct({ type: 'pong', server_time: new Date().toISOString() });
    else if (type === 'resync') this.sendSnapshot();
    else if (type === 'subscribe') {
      const res = parseSubscribe(msg);
      if (!res.ok) this.direct({ type: 'error', message: res.error });
      else {
        this.filter = res.filter;
        this.sendSnapshot();
      }
    } else this.direct({ type: 'error', message: 'expected a JSON object with type subscribe, resync or ping' });
  }
}
