import { backoffMs } from './backoff.js';
import { obj } from './pick.js';
import { readToken } from './token.js';

// The WebSocket link to /api/live (protocol in docs/api.md): reconnects with backoff, treats silence longer than
// three heartbeats as a dead link, and hands every parsed message to one handler. State lives elsewhere.

export type SocketState = 'connecting' | 'open' | 'closed';

export interface LiveSocketOptions {
  readonly url?: string;
  readonly onMessage: (msg: Record<string, unknown>) => void;
  readonly onState?: (state: SocketState, attempt: number) => void;
  readonly WebSocketImpl?: typeof WebSocket;
}

/** Characters a subprotocol may carry; every token the API accepts is made of them. */
const SUBPROTOCOL_SAFE = /^[A-Za-z0-9._~-]+$/;

/**
 * The read token rides as a second subprotocol beside `mmm.v1` (the server answers with `mmm.v1`, never the token),
 * which keeps it out of URLs and access logs; one that cannot be a subprotocol falls back to `?token=`.
 */
export function liveProtocols(token: string | null = readToken()): string[] | undefined {
  return token && SUBPROTOCOL_SAFE.test(token) ? ['mmm.v1', `mmm.token.${token}`] : undefined;
}

export function liveUrl(loc: Location = window.location, token: string | null = readToken()): string {
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = token && !liveProtocols(token) ? `?token=${encodeURIComponent(token)}` : '';
  return `${proto}//${loc.host}/api/live${query}`;
}

export class LiveSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private watchdog: ReturnType<typeof setTimeout> | null = null;
  private heartbeatMs = 15_000;
  private stopped = false;

  constructor(private readonly opts: LiveSocketOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.watchdog) clearTimeout(this.watchdog);
    this.ws?.close();
    this.ws = null;
  }

  send(msg: Record<string, unknown>): void {
    if (this.ws?.readyState === 1) this.ws.send(JSON.stringify(msg));
  }

  private connect(): void {
    const Impl = this.opts.WebSocketImpl ?? WebSocket;
    this.opts.onState?.('connecting', this.attempt);
    let ws: WebSocket;
    try {
      ws = new Impl(this.opts.url ?? liveUrl(), liveProtocols());
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.opts.onState?.('open', 0);
      this.kick();
    };
    ws.onmessage = (ev) => {
      this.kick();
      let msg: unknown;
      try {
        msg = JSON.parse(typeof ev.data === 'string' ? ev.data : '');
      } catch {
        return; // a frame we cannot parse is dropped; the next snapshot repairs any gap
      }
      const m = obj(msg);
      if (m.type === 'hello' && typeof m.heartbeat_s === 'number' && m.heartbeat_s > 0) {
        this.heartbeatMs = m.heartbeat_s * 1000;
      }
      this.opts.onMessage(m);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.watchdog) clearTimeout(this.watchdog);
      this.opts.onState?.('closed', this.attempt);
      this.scheduleRetry();
    };
    ws.onerror = () => {
      // onclose follows and schedules the retry
    };
  }

  /** Any message proves the link alive; three missed heartbeats mean it is not. */
  private kick(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.ws?.close(), this.heartbeatMs * 3);
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    const delay = backoffMs(this.attempt++);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
