import type { Logger } from '@mmm/common';
import { create, Mesh, Portnums, toBinary } from '@mmm/meshtastic';
import type { Connection } from './connection.js';
import type { Prng } from './prng.js';
import type { Radio } from './radio.js';
import { routeDiscovery, type TraceRateLimiter } from './traceroute.js';
import type { Outgoing } from './traffic.js';
import type { World } from './world.js';

const BROADCAST = 0xffffffff;

export interface RequestContext {
  world: World;
  radio: Radio;
  limiter: TraceRateLimiter;
  /** Picks reply delays. */
  rng: Prng;
  traceDelayMs: readonly [number, number];
  clock: () => number;
  /** Sends a packet from the mesh to the live clients and `to` (the client that asked). */
  emit(out: Outgoing, to: Connection): void;
  /** Runs `fn` after `ms` unless the simulator stopped by then. */
  later(ms: number, fn: () => void): void;
  log?: Logger;
}

/**
 * What happens to packets a client hands to the radio: traceroutes are answered from the topology (or refused by the
 * rate limit, as the firmware does), and want_ack gets the ACK (or NAK) the mesh would send back.
 */
export class ClientRequests {
  constructor(private readonly ctx: RequestContext) {}

  /** A packet the client hands to the radio: traceroutes are answered, want_ack is acknowledged. */
  handle(conn: Connection, pkt: Mesh.MeshPacket): void {
    const gw = this.ctx.world.gateway.num;
    if (pkt.id === 0) pkt.id = this.ctx.radio.nextId(gw);
    const data = pkt.payloadVariant.case === 'decoded' ? pkt.payloadVariant.value : undefined;
    const target = this.ctx.world.byNum.get(pkt.to);
    if (data?.portnum === Portnums.PortNum.TRACEROUTE_APP && pkt.to !== BROADCAST && pkt.to !== gw) {
      if (!this.ctx.limiter.take(this.ctx.clock())) {
        // Firmware refuses it before it reaches the air: no ACK, no reply, only a note to the client.
        this.ctx.log?.info({ to: pkt.to, id: pkt.id }, 'traceroute dropped by the rate limit');
        conn.send({
          case: 'clientNotification',
          value: create(Mesh.ClientNotificationSchema, {
            replyId: pkt.id,
            time: Math.floor(this.ctx.clock() / 1000),
            level: Mesh.LogRecord_Level.WARNING,
            message: 'TraceRoute can only be sent once every 30 seconds',
          }),
        });
        return;
      }
      if (!target) {
        if (pkt.wantAck)
          this.ctx.later(this.delay(), () =>
            this.ctx.emit(this.routing(gw, pkt.id, Mesh.Routing_Error.MAX_RETRANSMIT), conn),
          );
        return; // nobody answers for a node that is not in the mesh
      }
      const delay = this.delay();
      if (pkt.wantAck)
        this.ctx.later(delay / 2, () => this.ctx.emit(this.routing(target.num, pkt.id, Mesh.Routing_Error.NONE), conn));
      this.ctx.later(delay, () => {
        this.ctx.emit(
          {
            from: target.num,
            to: gw,
            portnum: Portnums.PortNum.TRACEROUTE_APP,
            payload: toBinary(Mesh.RouteDiscoverySchema, routeDiscovery(this.ctx.world, target.num)),
            channel: 'primary',
            requestId: pkt.id,
            forceDecoded: true,
          },
          conn,
        );
      });
      return;
    }
    if (!pkt.wantAck) return;
    if (pkt.to === gw) this.ctx.emit(this.routing(gw, pkt.id, Mesh.Routing_Error.NONE), conn);
    else if (pkt.to === BROADCAST)
      this.ctx.later(this.delay() / 4, () => this.ctx.emit(this.routing(gw, pkt.id, Mesh.Routing_Error.NONE), conn));
    else if (target)
      this.ctx.later(this.delay() / 2, () =>
        this.ctx.emit(this.routing(target.num, pkt.id, Mesh.Routing_Error.NONE), conn),
      );
    else
      this.ctx.later(this.delay(), () =>
        this.ctx.emit(this.routing(gw, pkt.id, Mesh.Routing_Error.MAX_RETRANSMIT), conn),
      );
  }

  private routing(from: number, requestId: number, error: Mesh.Routing_Error): Outgoing {
    const routing = create(Mesh.RoutingSchema, { variant: { case: 'errorReason', value: error } });
    return {
      from,
      to: this.ctx.world.gateway.num,
      portnum: Portnums.PortNum.ROUTING_APP,
      payload: toBinary(Mesh.RoutingSchema, routing),
      channel: 'primary',
      requestId,
      forceDecoded: true,
    };
  }

  private delay(): number {
    return this.ctx.rng.range(this.ctx.traceDelayMs[0], this.ctx.traceDelayMs[1]);
  }
}
