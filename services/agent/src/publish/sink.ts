import { type JetStreamPublisher, type Logger, PublisherClosedError, startPublishSpan } from '@mmm/common';

export interface EventSinkOptions {
  /** Accepted but unacked publishes at which the radio is paused; it resumes at half. */
  maxBacklog: number;
  onPressure: (paused: boolean) => void;
  log: Logger;
}

const encoder = new TextEncoder();

/**
 * Hands events to the windowed JetStream publisher without awaiting each one, and turns a growing backlog into
 * backpressure (pausing the radio) instead of an unbounded queue or drops.
 */
export class EventSink {
  private paused = false;
  published = 0;
  accepted = 0;
  failed = 0;
  /** Called with each publish's time from hand-over to the leaf's ack, in seconds (the ops metrics set it). */
  onAcked: ((seconds: number) => void) | undefined;

  constructor(
    private readonly publisher: JetStreamPublisher,
    private readonly o: EventSinkOptions,
  ) {}

  get backlog(): number {
    return this.publisher.pending;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  publish(subject: string, msgId: string, event: unknown): void {
    const data = encoder.encode(JSON.stringify(event));
    this.accepted++;
    // Trace context rides in the message headers: ingest and the API continue this packet's trace.
    const span = startPublishSpan(subject, { 'messaging.message.id': msgId });
    const handedAt = performance.now();
    this.publisher.publish(subject, data, msgId, span.headers).then(
      () => {
        span.end();
        this.published++;
        this.onAcked?.((performance.now() - handedAt) / 1000);
        this.check();
      },
      (err) => {
        span.end(err);
        this.failed++;
        if (!(err instanceof PublisherClosedError)) this.o.log.error({ err, subject, msgId }, 'publish failed');
        this.check();
      },
    );
    this.check();
  }

  private check(): void {
    const backlog = this.publisher.pending;
    if (!this.paused && backlog >= this.o.maxBacklog) {
      this.paused = true;
      this.o.log.warn({ backlog }, 'publish backlog full: pausing the radio');
      this.o.onPressure(true);
    } else if (this.paused && backlog <= this.o.maxBacklog / 2) {
      this.paused = false;
      this.o.log.info({ backlog }, 'publish backlog drained: resuming the radio');
      this.o.onPressure(false);
    }
  }

  drain(): Promise<void> {
    return this.publisher.drain();
  }
}
