import { streams } from '@mmm/schemas';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from 'nats';

/**
 * Reads the hub stream from its first message to the last one present when the read began, through a fresh
 * ordered (ephemeral) consumer, handing every message to `onMessage`. Returns the last sequence read (0 if empty).
 */
export async function readWholeStream(
  js: JetStreamClient,
  jsm: JetStreamManager,
  onMessage: (m: JsMsg) => Promise<void> | void,
  opts: { batch: number; signal?: AbortSignal },
): Promise<number> {
  const info = await jsm.streams.info(streams.hub);
  const target = info.state.last_seq;
  if (info.state.messages === 0 || target === 0) return 0;
  const consumer = await js.consumers.get(streams.hub, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume({ max_messages: opts.batch });
  const abort = () => messages.stop();
  opts.signal?.addEventListener('abort', abort, { once: true });
  let last = 0;
  try {
    for await (const m of messages) {
      await onMessage(m);
      last = m.seq;
      if (m.seq >= target || m.info.pending === 0) break;
    }
  } finally {
    opts.signal?.removeEventListener('abort', abort);
    messages.stop();
    await consumer.delete().catch(() => undefined);
  }
  return last;
}
