import { ConsumerEvents, type ConsumerMessages, type JetStreamManager, type JsMsg, type NatsConnection } from 'nats';
import type { Logger } from 'pino';

export interface DurableConsumeOptions {
  nc: NatsConnection;
  stream: string;
  durable: string;
  /** Messages per pull (the client keeps about this many requested). */
  maxMessages: number;
  /**
   * Creates the durable when it is missing (deleted, or a fresh stream) and updates what may change; run before
   * every (re)bind, so a consumer lost with its stream's last replica comes back.
   */
  ensure?: (jsm: JetStreamManager) => Promise<unknown>;
  /**
   * Pull request lifetime. The server's idle heartbeat is half of it, and two missed heartbeats make the client
   * re-pull: after a consumer leader dies this bounds how long a pull stays unanswered.
   */
  expiresMs?: number;
  /** No message for this long while the consumer has undelivered messages and room for more: bind again. */
  stallMs?: number;
  /** Missed heartbeats (counted by nats.js) after which the consume loop is re-created, not only re-pulled. */
  maxMissedHeartbeats?: number;
  signal: AbortSignal;
  log?: Logger;
  /** Called with the reason each time the loop binds again (metrics, tests). */
  onRebind?: (reason: string) => void;
  /** Called with true once a pull subscription is up, false when it ends (readiness). */
  onBound?: (bound: boolean) => void;
}

export const DEFAULT_PULL_EXPIRES_MS = 2_000;
export const DEFAULT_STALL_MS = 15_000;
const DEFAULT_MAX_MISSED_HEARTBEATS = 4;
/** Retry of a failed bind: short, a new consumer leader is usually elected within a few seconds. */
const REBIND_MIN_MS = 250;
const REBIND_MAX_MS = 2_000;

/** Waits ms, or less when the signal aborts (never rejects: the caller checks the signal). */
export const sleepUnlessAborted = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Every message of a durable pull consumer, across broker faults, until `signal` aborts.
 *
 * nats.js re-pulls by itself after a reconnect or two missed heartbeats, but on a cluster of 2.9 servers the consumer
 * can be left without a pull: its leader moved, or it was recreated, and the client's bookkeeping of outstanding
 * requests no longer matches the new leader's. So the loop is re-created (consumer looked up again, a fresh pull
 * subscription) when the server says the consumer or stream is gone, when nothing answers, after repeated missed
 * heartbeats, and when no message came for `stallMs` although the consumer has undelivered messages and room to
 * deliver them. Acks of messages already yielded still work: they go to the message's own reply subject.
 */
export async function* consumeDurable(o: DurableConsumeOptions): AsyncGenerator<JsMsg> {
  const expires = o.expiresMs ?? DEFAULT_PULL_EXPIRES_MS;
  const stallMs = o.stallMs ?? DEFAULT_STALL_MS;
  const maxMissed = o.maxMissedHeartbeats ?? DEFAULT_MAX_MISSED_HEARTBEATS;
  let delay = REBIND_MIN_MS;
  let reason = 'start';
  while (!o.signal.aborted) {
    let messages: ConsumerMessages | undefined;
    let watchdog: NodeJS.Timeout | undefined;
    const stop = () => messages?.stop();
    o.signal.addEventListener('abort', stop, { once: true });
    try {
      if (o.ensure) await o.ensure(await o.nc.jetstreamManager());
      const consumer = await o.nc.jetstream().consumers.get(o.stream, o.durable);
      messages = await consumer.consume({ max_messages: o.maxMessages, expires });
      o.onBound?.(true);
      if (reason !== 'start') {
        o.log?.info({ stream: o.stream, durable: o.durable, reason }, 'consumer bound again');
        o.onRebind?.(reason);
      }
      const current = messages;
      let rebound = false;
      const rebind = (why: string) => {
        if (rebound) return;
        rebound = true;
        reason = why;
        o.log?.warn({ stream: o.stream, durable: o.durable, reason: why }, 'consumer stuck, binding again');
        current.stop();
      };
      reason = 'ended';
      void watchStatus(current, maxMissed, rebind);
      let lastMessageAt = Date.now();
      let checking = false;
      watchdog = setInterval(
        () => {
          if (checking || Date.now() - lastMessageAt < stallMs) return;
          checking = true;
          consumer
            .info()
            .then((info) => {
              const limit = info.config.max_ack_pending ?? -1;
              const room = limit <= 0 || info.num_ack_pending < limit;
              if (info.num_pending > 0 && room && Date.now() - lastMessageAt >= stallMs) rebind('stalled');
            })
            // No answer within the request timeout: no leader yet; nats.js's own re-pull or the next check covers it.
            .catch(() => undefined)
            .finally(() => {
              checking = false;
            });
        },
        Math.max(500, stallMs / 3),
      );
      for await (const m of current) {
        lastMessageAt = Date.now();
        delay = REBIND_MIN_MS;
        yield m;
      }
    } catch (err) {
      if (o.signal.aborted || o.nc.isClosed()) break;
      reason = `bind failed: ${(err as Error).message}`;
      o.log?.warn(
        { stream: o.stream, durable: o.durable, err: (err as Error).message },
        'cannot bind consumer, retrying',
      );
    } finally {
      clearInterval(watchdog);
      o.signal.removeEventListener('abort', stop);
      if (messages) {
        messages.stop();
        o.onBound?.(false);
      }
    }
    // A closed connection never comes back (nats.js reconnects by itself until then): the service is stopping.
    if (o.signal.aborted || o.nc.isClosed()) break;
    await sleepUnlessAborted(delay, o.signal);
    delay = Math.min(REBIND_MAX_MS, delay * 2);
  }
}

async function watchStatus(messages: ConsumerMessages, maxMissed: number, rebind: (why: string) => void) {
  try {
    for await (const s of await messages.status()) {
      switch (s.type) {
        case ConsumerEvents.ConsumerDeleted:
        case ConsumerEvents.ConsumerNotFound:
        case ConsumerEvents.StreamNotFound:
        case ConsumerEvents.NoResponders:
          rebind(s.type);
          return;
        case ConsumerEvents.HeartbeatsMissed:
          if (typeof s.data === 'number' && s.data >= maxMissed) {
            rebind(s.type);
            return;
          }
          break;
        default:
          break;
      }
    }
  } catch {
    // the iterator ends with the messages; nothing to watch then
  }
}
