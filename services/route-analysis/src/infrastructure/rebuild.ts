import { readStreamRange } from '@mmm/common';
import { consumers, streams } from '@mmm/schemas';
import type { JetStreamClient, JetStreamManager, JsMsg } from 'nats';

/** The rebuild consumer vanishes on its own this long after a crashed rebuild stopped pulling. */
const INACTIVE_THRESHOLD_MS = 60_000;

/**
 * Reads the hub stream from its first message to the last one present when the read began, handing every message
 * to `onMessage`. Returns the last sequence read (0 if the stream is empty).
 */
export async function readWholeStream(
  js: JetStreamClient,
  jsm: JetStreamManager,
  onMessage: (m: JsMsg) => Promise<void> | void,
  opts: { batch: number },
): Promise<number> {
  const info = await jsm.streams.info(streams.hub);
  const target = info.state.last_seq;
  if (info.state.messages === 0 || target === 0) return 0;
  const read = await readStreamRange(
    js,
    jsm,
    {
      stream: streams.hub,
      // Named, so a least-privilege credential can be allowed exactly this reader.
      name: consumers.routeAnalysisRebuild,
      untilSeq: target,
      batch: opts.batch,
      inactiveThresholdMs: INACTIVE_THRESHOLD_MS,
    },
    onMessage,
  );
  return read.lastSeq;
}
