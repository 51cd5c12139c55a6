import { create, Mesh } from '@mmm/meshtastic';
import type { World } from './world.js';

/** The firmware's limit on traceroutes handed to the radio by its client (PhoneAPI.cpp, THIRTY_SECONDS_MS). */
export const TRACEROUTE_RATE_LIMIT_MS = 30_000;
/** How long a reply takes to come back, before scaling by path length. */
export const DEFAULT_TRACE_DELAY_MS: readonly [number, number] = [2_000, 8_000];

/** SNR in RouteDiscovery: dB scaled by 4, as integers. */
export function snrX4(db: number): number {
  return Math.round(db * 4);
}

/**
 * The RouteDiscovery a traceroute from the gateway to `target` comes back with: the intermediate hops each way and the
 * SNR each receiving node measured (one more SNR than hops, because the destination and then the originator add theirs).
 */
export function routeDiscovery(world: World, target: number): Mesh.RouteDiscovery {
  const back = world.pathToGateway(target); // target … gateway
  const towards = [...back].reverse(); // gateway … target
  const snrs = (path: number[]) => path.slice(1).map((to, i) => snrX4(world.link(path[i]!, to)!.snr));
  return create(Mesh.RouteDiscoverySchema, {
    route: towards.slice(1, -1),
    snrTowards: snrs(towards),
    routeBack: back.slice(1, -1),
    snrBack: snrs(back),
  });
}

/** One traceroute per window, for the whole radio (every client shares it), as the firmware enforces. */
export class TraceRateLimiter {
  private last = Number.NEGATIVE_INFINITY;

  constructor(private readonly windowMs: number) {}

  /** True when a request at `nowMs` may go out; it then counts as the latest one. */
  take(nowMs: number): boolean {
    if (nowMs - this.last < this.windowMs) return false;
    this.last = nowMs;
    return true;
  }
}
