import type { Logger } from '@mmm/common';
import { Deframer, isFromRadio } from '@mmm/meshtastic';
import type { RadioTarget } from '../config/settings.js';
import { backoffDelay } from './backoff.js';
import { type OpenedLink, openRadio } from './open.js';
import { heartbeatFrame, randomId, wantConfigFrame } from './toradio.js';

/** How long a partial frame may wait for its remaining bytes on an otherwise quiet link. */
const PENDING_FRAME_GIVE_UP_MS = 1_000;

export type RadioState = 'connecting' | 'configuring' | 'connected' | 'disconnected';

export interface RadioSessionOptions {
  target: RadioTarget;
  heartbeatMs: number;
  reconnectMinMs?: number;
  reconnectMaxMs: number;
  stallTimeoutMs: number;
  log: Logger;
  /** Every FromRadio payload, in order. Called synchronously from the socket's data handler. */
  onFrame: (payload: Uint8Array, configId: number) => void;
  onState?: (state: RadioState) => void;
  open?: (target: RadioTarget) => Promise<OpenedLink>;
}

/**
 * One radio connection kept alive: opens the link, asks for the config, sends heartbeats, and after any loss
 * (close, error, stalled link, failed open) reconnects with exponential backoff and jitter. Reading is on our
 * strict deframer; frames already read are handed on before the link is dropped, so none are lost.
 */
export class RadioSession {
  state: RadioState = 'disconnected';
  since = Date.now();
  lastFrameAt: number | null = null;
  reconnects = 0;
  framesRead = 0;
  debugBytes = 0;
  transport: 'tcp' | 'serial' | 'none' = 'none';
  address = '';
  configId = 0;
  private link: OpenedLink | undefined;
  private attempt = 0;
  private stopped = true;
  private paused = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private everConnected = false;

  constructor(private readonly opts: RadioSessionOptions) {}

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.drop('stopping');
  }

  /** The radio sent config_complete_id for our request: the link is fully up, the backoff starts over. */
  markConfigured(): void {
    this.attempt = 0;
    this.setState('connected');
  }

  /** Writes a ToRadio frame; false when no link is up. */
  send(frame: Uint8Array): boolean {
    const s = this.link?.stream;
    if (!s || s.destroyed || !s.writable) return false;
    s.write(frame);
    return true;
  }

  /**
   * Writes a ToRadio frame and resolves once the OS took it (the write callback): what "the radio accepted it" can
   * mean on a stream link. False when no link is up or the write failed.
   */
  sendFlushed(frame: Uint8Array): Promise<boolean> {
    const s = this.link?.stream;
    if (!s || s.destroyed || !s.writable) return Promise.resolve(false);
    return new Promise((resolve) => s.write(frame, (err) => resolve(!err)));
  }

  /** Stops reading the radio (backpressure): the OS buffers fill and the radio holds its queue. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.link?.stream.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.link?.stream.resume();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  private setState(state: RadioState): void {
    if (this.state === state) return;
    this.state = state;
    this.since = Date.now();
    this.opts.onState?.(state);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.setState('connecting');
    let link: OpenedLink;
    try {
      link = await (this.opts.open ?? openRadio)(this.opts.target);
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'radio link failed to open');
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) {
      link.stream.destroy();
      return;
    }
    if (this.everConnected) this.reconnects++;
    this.everConnected = true;
    this.link = link;
    this.transport = link.transport;
    this.address = link.address;
    this.opts.log.info({ transport: link.transport, address: link.address }, 'radio link open');
    // A candidate frame that is not a FromRadio is line noise (a false 0x94 0xC3 header in serial debug text):
    // the deframer then resumes one byte later instead of swallowing the real frames behind it.
    const deframer = new Deframer({ validate: isFromRadio });
    this.configId = randomId();
    this.lastFrameAt = Date.now();
    let lastChunkAt = Date.now();
    const handle = (frames: ReturnType<Deframer['push']>) => {
      for (const f of frames) {
        if (f.type === 'packet') {
          this.framesRead++;
          this.lastFrameAt = Date.now();
          this.opts.onFrame(f.payload, this.configId);
        } else {
          this.debugBytes += f.text.length;
          this.opts.log.debug({ text: f.text.slice(0, 200) }, 'radio debug output');
        }
      }
    };
    link.stream.on('data', (chunk: Buffer) => {
      lastChunkAt = Date.now();
      handle(deframer.push(chunk));
    });
    // A real frame arrives in one burst; a false start whose announced length never arrives would otherwise hold
    // back the frames behind it until enough bytes came, so give it up once the link has been quiet for a moment.
    const pendingCheck = setInterval(() => {
      if (deframer.buffered > 0 && Date.now() - lastChunkAt > PENDING_FRAME_GIVE_UP_MS) handle(deframer.dropPending());
    }, PENDING_FRAME_GIVE_UP_MS);
    pendingCheck.unref();
    link.stream.once('close', () => clearInterval(pendingCheck));
    const onGone = (why: string) => () => {
      if (this.link !== link) return;
      this.opts.log.warn({ why }, 'radio link lost');
      this.drop(why);
      this.scheduleReconnect();
    };
    link.stream.once('close', onGone('closed'));
    link.stream.once('end', onGone('ended'));
    link.stream.on('error', (err) => this.opts.log.warn({ err: err.message }, 'radio link error'));
    if (this.paused) link.stream.pause();
    this.setState('configuring');
    this.send(wantConfigFrame(this.configId));
    this.heartbeat = setInterval(() => {
      this.send(heartbeatFrame());
      if (this.lastFrameAt !== null && Date.now() - this.lastFrameAt > this.opts.stallTimeoutMs && !this.paused) {
        onGone('stalled: no frame within the stall timeout')();
      }
    }, this.opts.heartbeatMs);
  }

  private drop(why: string): void {
    clearInterval(this.heartbeat);
    const link = this.link;
    this.link = undefined;
    if (link && !link.stream.destroyed) link.stream.destroy();
    if (link) this.opts.log.debug({ why }, 'radio link closed');
    this.setState('disconnected');
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    const delay = backoffDelay(this.attempt++, this.opts.reconnectMinMs ?? 500, this.opts.reconnectMaxMs);
    this.opts.log.info({ delayMs: delay, attempt: this.attempt }, 'reconnecting to the radio');
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }
}
