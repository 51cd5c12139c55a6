import { ensureConsumer, type Logger } from '@mmm/common';
import { streams } from '@mmm/schemas';
import { AckPolicy, type ConsumerInfo, DeliverPolicy, type JetStreamManager, ReplayPolicy } from 'nats';

/** Longer than any checkpoint interval: events held until the next checkpoint are never redelivered meanwhile. */
export const ACK_WAIT_MS = 120_000;
const CONSUMER_NOT_FOUND = 10014;
const WAIT_LOG_MS = 10_000;

const ns = (ms: number) => ms * 1_000_000;

/**
 * The durable on the hub stream, positioned just after the checkpoint. Ack-all: acking the last event of a
 * checkpoint acks every event before it. No subject filter: receptions of every port count as hearing a node.
 */
export function consumerConfig(durable: string, startSeq: number) {
  return {
    durable_name: durable,
    ack_policy: AckPolicy.All,
    replay_policy: ReplayPolicy.Instant,
    ack_wait: ns(ACK_WAIT_MS),
    max_ack_pending: -1,
    max_deliver: -1,
    ...(startSeq > 1
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq }
      : { deliver_policy: DeliverPolicy.All }),
  };
}

/** Deletes and creates the durable at `startSeq`: the checkpoint, not the broker, says where evaluation stands. */
export async function restartConsumer(jsm: JetStreamManager, durable: string, startSeq: number): Promise<ConsumerInfo> {
  await jsm.consumers.delete(streams.hub, durable).catch((err: unknown) => {
    if ((err as { api_error?: { err_code?: number } }).api_error?.err_code !== CONSUMER_NOT_FOUND) throw err;
  });
  return ensureConsumer(jsm, streams.hub, consumerConfig(durable, startSeq));
}

export async function waitForHubStream(jsm: JetStreamManager, log: Logger, signal?: AbortSignal): Promise<number> {
  let lastLog = 0;
  for (;;) {
    try {
      return (await jsm.streams.info(streams.hub)).state.last_seq;
    } catch (err) {
      if ((err as { code?: string }).code === 'CONNECTION_CLOSED' || signal?.aborted) throw err;
      if (Date.now() - lastLog > WAIT_LOG_MS) {
        log.warn({ err: (err as Error).message }, `waiting for the hub stream ${streams.hub} (mmm streams provision)`);
        lastLog = Date.now();
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
