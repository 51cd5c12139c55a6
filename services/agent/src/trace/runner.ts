import type { Logger } from '@mmm/common';
import { fromBinary, Mesh, Portnums } from '@mmm/meshtastic';
import { SCHEMA_VERSION, type TraceOutcome } from '@mmm/schemas';
import { randomId, traceRouteFrame } from '../radio/toradio.js';
import { tracePaths } from './outcome.js';
import type { TraceScheduler, TraceTrigger } from './scheduler.js';

export interface TraceRunnerOptions {
  site: string;
  agent: string;
  hopLimit: number;
  /** Least time between two requests (firmware allows one per ~30 s). */
  gapMs: number;
  timeoutMs: number;
  scheduler: TraceScheduler;
  /** Sends a ToRadio frame; false when the radio is not connected. */
  send: (frame: Uint8Array) => boolean;
  /** Radio link configured and our node number known. */
  ready: () => number | undefined;
  emit: (outcome: TraceOutcome) => void;
  log: Logger;
  clock?: () => number;
  tickMs?: number;
}

interface Pending {
  id: number;
  target: number;
  me: number;
  trigger: TraceTrigger;
  startedAt: number;
  timer: NodeJS.Timeout;
}

/**
 * Sends the traceroutes the scheduler picks, never two within `gapMs`, and turns each into a TraceOutcome:
 * success when a reply with our request id arrives, timeout otherwise. It never blocks reading: replies are fed in
 * by `onPacket` from the frame handler.
 */
export class TraceRunner {
  private readonly pending = new Map<number, Pending>();
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  sent = 0;
  succeeded = 0;
  timedOut = 0;
  failed = 0;

  constructor(private readonly o: TraceRunnerOptions) {}

  private now(): number {
    return (this.o.clock ?? Date.now)();
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.o.tickMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }

  get inFlight(): number {
    return this.pending.size;
  }

  tick(): void {
    const me = this.o.ready();
    if (me === undefined) return;
    const now = this.now();
    if (now - this.lastSentAt < this.o.gapMs) return;
    const pick = this.o.scheduler.next(me);
    if (!pick) return;
    const id = randomId();
    if (!this.o.send(traceRouteFrame({ id, to: pick.target, hopLimit: this.o.hopLimit }))) {
      this.o.scheduler.request(pick.target, pick.trigger);
      return;
    }
    this.lastSentAt = now;
    this.sent++;
    this.o.scheduler.started(pick.target, now);
    const timer = setTimeout(() => this.finish(id, 'timeout'), this.o.timeoutMs);
    timer.unref();
    this.pending.set(id, { id, target: pick.target, me, trigger: pick.trigger, startedAt: now, timer });
    this.o.log.debug({ target: pick.target, trigger: pick.trigger, id }, 'traceroute sent');
  }

  /** Every packet from the radio: picks out replies (and routing errors) to our requests by requestId. */
  onPacket(packet: Mesh.MeshPacket): void {
    if (packet.payloadVariant.case !== 'decoded') return;
    const data = packet.payloadVariant.value;
    const p = data.requestId ? this.pending.get(data.requestId) : undefined;
    if (!p) return;
    if (data.portnum === Portnums.PortNum.TRACEROUTE_APP) {
      try {
        this.finish(p.id, 'success', tracePaths(p.me, packet.from, data.payload));
      } catch (err) {
        this.finish(p.id, 'error', undefined, `undecodable RouteDiscovery: ${(err as Error).message}`);
      }
    } else if (data.portnum === Portnums.PortNum.ROUTING_APP) {
      const reason = routingError(data.payload);
      if (reason) this.finish(p.id, 'error', undefined, `routing error ${reason}`);
    }
  }

  private finish(
    id: number,
    outcome: TraceOutcome['outcome'],
    paths?: Pick<TraceOutcome, 'towards' | 'back'>,
    error?: string,
  ): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    const finishedAt = this.now();
    if (outcome === 'success') {
      this.succeeded++;
      this.o.scheduler.succeeded(p.target, finishedAt);
    } else if (outcome === 'timeout') this.timedOut++;
    else this.failed++;
    this.o.emit({
      v: SCHEMA_VERSION,
      kind: 'trace',
      site: this.o.site,
      agent: this.o.agent,
      requestId: p.id,
      from: p.me,
      to: p.target,
      startedAt: p.startedAt,
      finishedAt,
      outcome,
      trigger: p.trigger,
      hopLimit: this.o.hopLimit,
      channel: 0,
      ...(paths ?? {}),
      ...(error ? { error } : {}),
    });
  }
}

/** The error name of a ROUTING_APP payload, or undefined for a plain ACK (NONE) or an undecodable payload. */
function routingError(payload: Uint8Array): string | undefined {
  try {
    const r = fromBinary(Mesh.RoutingSchema, payload);
    if (r.variant.case !== 'errorReason' || r.variant.value === Mesh.Routing_Error.NONE) return undefined;
    return Mesh.Routing_Error[r.variant.value] ?? String(r.variant.value);
  } catch {
    return undefined;
  }
}
