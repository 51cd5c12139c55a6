import { ensureConsumer } from '@mmm/common';
import { streams } from '@mmm/schemas';
import { AckPolicy, type ConsumerInfo, DeliverPolicy, type JetStreamManager, nanos, ReplayPolicy } from 'nats';

/** Long enough that events held between two flushes (about a second) are never redelivered meanwhile. */
export const ACK_WAIT_MS = 60_000;

const CONSUMER_NOT_FOUND = 10014;

/**
 * The durable pull consumer on the hub stream. It has no subject filter: it needs receptions of every port (zero-hop
 * evidence), traces, node DBs and status (the agent's node number), and nats-server 2.9 allows only one filter per
 * consumer. `startSeq` positions a new consumer just after what a rebuild already covered.
 */
export async function ensureHubConsumer(
  jsm: JetStreamManager,
  durable: string,
  opts: { startSeq?: number; maxAckPending: number; recreate?: boolean },
): Promise<ConsumerInfo> {
  if (opts.recreate) {
    await jsm.consumers.delete(streams.hub, durable).catch((err: unknown) => {
      if ((err as { api_error?: { err_code?: number } }).api_error?.err_code !== CONSUMER_NOT_FOUND) throw err;
    });
  }
  const start =
    opts.startSeq && opts.startSeq > 1
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: opts.startSeq }
      : { deliver_policy: DeliverPolicy.All };
  const existing = await jsm.consumers.info(streams.hub, durable).catch(() => undefined);
  if (existing) {
    return ensureConsumer(jsm, streams.hub, {
      durable_name: durable,
      ack_wait: nanos(ACK_WAIT_MS),
      max_ack_pending: opts.maxAckPending,
    });
  }
  return ensureConsumer(jsm, streams.hub, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    replay_policy: ReplayPolicy.Instant,
    ack_wait: nanos(ACK_WAIT_MS),
    max_ack_pending: opts.maxAckPending,
    max_deliver: -1,
    ...start,
  });
}
