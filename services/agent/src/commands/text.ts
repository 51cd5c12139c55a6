import type { Logger } from '@mmm/common';
import { BROADCAST_NUM, type CommandReply, commandSubjects, nodeNumFromId, parseTextCommand } from '@mmm/schemas';
import type { NatsConnection, Subscription } from 'nats';
import { randomId, textFrame } from '../radio/toradio.js';

/** How many idempotency keys are remembered, and how long: a sender repeats a key only right after a crash. */
export const DEDUPE_KEYS = 1000;
export const DEDUPE_MS = 24 * 3_600_000;
/**
 * The agent's own limit on texts, a safety net under the sender's: a misconfigured or hostile sender must not be
 * able to flood a shared channel's air time through this radio. At most TEXT_BURST texts per TEXT_WINDOW_MS.
 */
export const TEXT_BURST = 5;
export const TEXT_WINDOW_MS = 60_000;

export interface TextCommandOptions {
  site: string;
  agent: string;
  /** Writes a frame to the radio; true once the link took it, false when no link is up. */
  sendFlushed: (frame: Uint8Array) => Promise<boolean>;
  /** Our node number once the radio link is configured. */
  ready: () => number | undefined;
  log: Logger;
  clock?: () => number;
}

/**
 * Answers `mmm.cmd.<site>.<agent>.text` requests: checks the body, sends the text through the radio once per
 * idempotency key, and replies ok only after the radio link took the frame; every refusal is an error reply (the
 * sender retries), never a crash.
 */
export class TextCommands {
  private readonly done = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<CommandReply>>();
  private sentAt: number[] = [];
  private sub: Subscription | undefined;
  sent = 0;
  refused = 0;

  constructor(private readonly o: TextCommandOptions) {}

  get subject(): string {
    return commandSubjects.text(this.o.site, this.o.agent);
  }

  start(nc: NatsConnection): void {
    const sub = nc.subscribe(this.subject);
    this.sub = sub;
    void (async () => {
      // A subscription the server refuses (credentials from before text commands) ends the loop with an error:
      // the agent keeps running without text commands, and says why.
      try {
        await this.serve(sub);
      } catch (err) {
        this.o.log.error({ err: (err as Error).message, subject: this.subject }, 'text commands unavailable');
      }
    })();
  }

  private async serve(sub: Subscription): Promise<void> {
    for await (const m of sub) {
      const reply = await this.handle(m.string()).catch(
        (err: unknown): CommandReply => ({ ok: false, error: `internal: ${(err as Error).message}` }),
      );
      if (!m.reply) continue; // a plain publish has nobody to answer
      try {
        m.respond(JSON.stringify(reply));
      } catch (err) {
        this.o.log.warn({ err: (err as Error).message }, 'could not answer a text command');
      }
    }
  }

  stop(): void {
    this.sub?.unsubscribe();
  }

  async handle(raw: string): Promise<CommandReply> {
    const parsed = parseTextCommand(raw);
    if (!parsed.ok) return this.refuse(`bad command: ${parsed.error}`);
    const cmd = parsed.value;
    this.forgetOld();
    if (this.done.has(cmd.key)) return { ok: true, duplicate: true };
    // The sender's request timed out and it asked again while the first is still being written: one answer for both.
    const running = this.inFlight.get(cmd.key);
    if (running) return running;
    const p = this.send(cmd.key, cmd.text, cmd.to, cmd.channel ?? 0);
    this.inFlight.set(cmd.key, p);
    try {
      return await p;
    } finally {
      this.inFlight.delete(cmd.key);
    }
  }

  private async send(key: string, text: string, to: string | undefined, channel: number): Promise<CommandReply> {
    if (this.o.ready() === undefined) return this.refuse('radio not connected');
    const now = this.now();
    this.sentAt = this.sentAt.filter((t) => now - t < TEXT_WINDOW_MS);
    if (this.sentAt.length >= TEXT_BURST) {
      return this.refuse(`rate limited: at most ${TEXT_BURST} texts per ${TEXT_WINDOW_MS / 1000} s`);
    }
    const frame = textFrame({ id: randomId(), to: to ? nodeNumFromId(to) : BROADCAST_NUM, channel, text });
    if (!(await this.o.sendFlushed(frame))) return this.refuse('radio not connected');
    this.sentAt.push(now);
    this.done.set(key, now);
    this.sent++;
    this.o.log.info({ key, to: to ?? 'broadcast', channel, bytes: Buffer.byteLength(text) }, 'text sent to the mesh');
    return { ok: true };
  }

  private refuse(error: string): CommandReply {
    this.refused++;
    this.o.log.warn({ error }, 'text command refused');
    return { ok: false, error };
  }

  private forgetOld(): void {
    const now = this.now();
    for (const [k, at] of this.done) {
      if (this.done.size <= DEDUPE_KEYS && now - at < DEDUPE_MS) break; // insertion order: the rest are newer
      this.done.delete(k);
    }
  }

  private now(): number {
    return (this.o.clock ?? Date.now)();
  }
}
