import type { Logger } from '@mmm/common';
import { JetStreamPublisher } from '@mmm/common';
import { type DeadLetter, msgIds, SCHEMA_VERSION, subjects } from '@mmm/schemas';
import type { JsMsg, NatsConnection } from 'nats';

export const SERVICE = 'ingest';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function deadLetterOf(m: JsMsg, stream: string, reason: string, at: number): DeadLetter {
  let payload: string;
  let payloadEncoding: 'utf8' | 'base64' = 'utf8';
  try {
    payload = utf8.decode(m.data);
  } catch {
    payload = Buffer.from(m.data).toString('base64');
    payloadEncoding = 'base64';
  }
  const msgId = m.headers?.get('Nats-Msg-Id');
  return {
    v: SCHEMA_VERSION,
    kind: 'deadletter',
    service: SERVICE,
    at,
    reason,
    subject: m.subject,
    stream,
    streamSeq: m.info.streamSequence,
    ...(msgId ? { msgId } : {}),
    payload,
    payloadEncoding,
  };
}

/**
 * Publishes dead letters before the bad message is acked. With a stream capturing the subject the publish is
 * acked and retried with its Msg-Id (a redelivered bad message is not dead-lettered twice); without one, a plain
 * publish is all there is, and a warning at start says so.
 */
export class DeadLetterSink {
  private readonly publisher: JetStreamPublisher;
  readonly subject = subjects.deadLetter(SERVICE);

  constructor(
    private readonly nc: NatsConnection,
    private readonly durable: boolean,
    log: Logger,
  ) {
    this.publisher = new JetStreamPublisher(nc.jetstream(), { log });
  }

  async publish(dl: DeadLetter): Promise<void> {
    const data = new TextEncoder().encode(JSON.stringify(dl));
    if (!this.durable) {
      this.nc.publish(this.subject, data);
      return;
    }
    await this.publisher.publish(this.subject, data, msgIds.deadLetter(SERVICE, dl.stream ?? '', dl.streamSeq ?? 0));
  }

  close(): void {
    this.publisher.close();
  }
}
