import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { type RecordTags, toRecord } from './record.js';
import { DEFAULT_LOG_BUFFER_LINES, DEFAULT_LOG_PORT } from './section.js';

/** Reconnect backoff: doubles from the first to the last, with up to 25 % jitter. */
export const RECONNECT_MIN_MS = 250;
export const RECONNECT_MAX_MS = 30_000;
/** A connect attempt that has not completed by then is abandoned (the original's socket timeout). */
export const CONNECT_TIMEOUT_MS = 5_000;

export interface JsonTcpShipperOptions extends Partial<RecordTags> {
  host: string;
  port?: number;
  authToken?: string;
  useTls?: boolean;
  /** false: accept any certificate and host name (self-signed collectors). */
  verifySsl?: boolean;
  bufferLines?: number;
  /** Where the shipper reports its own trouble (once per outage, not per line); stderr by default. */
  onProblem?: (message: string) => void;
}

export interface ShipperStats {
  connected: boolean;
  /** Lines handed to the socket. */
  sent: number;
  /** Lines dropped because the buffer was full (oldest first). */
  dropped: number;
  /** Lines waiting for a connection. */
  buffered: number;
  connects: number;
}

/**
 * A pino destination that ships the original's JSON records to a TCP (or TLS) collector. `write` only queues: it never
 * waits for the network, so a collector that is down cannot stall the event loop (the original blocked on every line).
 * While disconnected, up to `bufferLines` lines wait; beyond that the oldest are dropped and counted. After each
 * (re)connect the auth token line goes first, then the backlog.
 */
export class JsonTcpShipper {
  private readonly queue: string[] = [];
  private head = 0;
  private socket: Socket | undefined;
  private writable = false;
  private closed = false;
  private backoffMs = RECONNECT_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  private reported = false;
  private readonly tags: RecordTags;
  private readonly limit: number;
  readonly stats: ShipperStats = { connected: false, sent: 0, dropped: 0, buffered: 0, connects: 0 };

  constructor(private readonly opts: JsonTcpShipperOptions) {
    this.tags = { application: opts.application ?? 'meshymcmapface', environment: opts.environment ?? 'production' };
    this.limit = opts.bufferLines ?? DEFAULT_LOG_BUFFER_LINES;
    this.connect();
  }

  /** pino calls this with one serialised line. */
  write(line: string): boolean {
    if (this.closed) return true;
    this.queue.push(`${JSON.stringify(toRecord(line, this.tags))}\n`);
    if (this.queue.length - this.head > this.limit) {
      this.head++;
      this.stats.dropped++;
    }
    this.compact();
    this.stats.buffered = this.queue.length - this.head;
    if (this.writable) this.flush();
    return true;
  }

  /** Sends what is queued if connected (waiting at most `waitMs`), then closes for good. */
  async close(waitMs = 2_000): Promise<void> {
    const deadline = Date.now() + waitMs;
    while (this.writable && this.queue.length > this.head && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    this.closed = true;
    clearTimeout(this.timer);
    const s = this.socket;
    this.socket = undefined;
    this.writable = false;
    if (s && !s.destroyed) await new Promise<void>((r) => s.end(() => r()));
    s?.destroy();
  }

  private connect(): void {
    if (this.closed) return;
    const port = this.opts.port ?? DEFAULT_LOG_PORT;
    const host = this.opts.host;
    const verify = this.opts.verifySsl ?? true;
    const socket = this.opts.useTls
      ? tlsConnect({
          host,
          port,
          servername: host,
          rejectUnauthorized: verify,
          ...(verify ? {} : { checkServerIdentity: () => undefined }),
        })
      : netConnect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(CONNECT_TIMEOUT_MS, () =>
      socket.destroy(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`)),
    );
    socket.once(this.opts.useTls ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      this.writable = true;
      this.backoffMs = RECONNECT_MIN_MS;
      this.reported = false;
      this.stats.connected = true;
      this.stats.connects++;
      if (this.opts.authToken) socket.write(`${JSON.stringify({ auth_token: this.opts.authToken })}\n`);
      this.flush();
    });
    socket.on('drain', () => this.flush());
    // Collectors do not talk back; reading keeps a half-closed socket from lingering unnoticed.
    socket.on('data', () => {});
    socket.on('error', (err) => this.problem(`log collector ${host}:${port}: ${err.message}`));
    socket.once('close', () => {
      if (this.socket !== socket) return;
      this.writable = false;
      this.stats.connected = false;
      this.socket = undefined;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.closed) return;
    const delay = this.backoffMs * (1 + Math.random() * 0.25);
    this.backoffMs = Math.min(this.backoffMs * 2, RECONNECT_MAX_MS);
    this.timer = setTimeout(() => this.connect(), delay);
    this.timer.unref();
  }

  private flush(): void {
    const s = this.socket;
    while (s && this.writable && this.head < this.queue.length) {
      const line = this.queue[this.head++]!;
      this.stats.sent++;
      if (!s.write(line)) break; // resumes on 'drain'
    }
    this.compact();
    this.stats.buffered = this.queue.length - this.head;
  }

  /** Drops consumed entries in one splice now and then, so the queue is O(1) per line. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private problem(message: string): void {
    if (this.reported) return;
    this.reported = true;
    (this.opts.onProblem ?? ((m: string) => process.stderr.write(`${m} (retrying; log lines are buffered)\n`)))(
      message,
    );
  }
}
