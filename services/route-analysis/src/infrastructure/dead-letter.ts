import type { JetStreamPublisher } from '@mmm/common';
import { assertEvent, type DeadLetter, msgIds, SCHEMA_VERSION, streams, subjects } from '@mmm/schemas';

export const SERVICE = 'route-analysis';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Publishes an event we could not use to mesh.v1.dlq.route-analysis, with the reason, keyed by its stream sequence. */
export async function deadLetter(
  publisher: JetStreamPublisher,
  msg: { subject: string; seq: number; data: Uint8Array; msgId?: string },
  reason: string,
  now: number,
): Promise<void> {
  let payload: string;
  let payloadEncoding: DeadLetter['payloadEncoding'] = 'utf8';
  try {
    payload = utf8.decode(msg.data);
  } catch {
    payload = Buffer.from(msg.data).toString('base64');
    payloadEncoding = 'base64';
  }
  const ev = assertEvent<DeadLetter>({
    v: SCHEMA_VERSION,
    kind: 'deadletter',
    service: SERVICE,
    at: now,
    reason,
    subject: msg.subject,
    stream: streams.hub,
    streamSeq: msg.seq,
    ...(msg.msgId ? { msgId: msg.msgId } : {}),
    payload,
    payloadEncoding,
  });
  await publisher.publish(
    subjects.deadLetter(SERVICE),
    new TextEncoder().encode(JSON.stringify(ev)),
    msgIds.deadLetter(SERVICE, streams.hub, msg.seq),
  );
}
