import { fromBinary, Mesh } from '@mmm/meshtastic';
import type { TracePath } from '@mmm/schemas';

/** RouteDiscovery SNR values are dB×4; -128 means the firmware did not know. */
export function snrDb(raw: number): number | null {
  return raw === -128 ? null : raw / 4;
}

/**
 * The two paths of a traceroute reply. The reply travels target → agent, so the far end is the reply's `from`
 * (the original used `to` and recorded the agent as the target). towards = [me, ...route, target];
 * back = [target, ...routeBack, me], or null when the firmware did not record the way back.
 */
export function tracePaths(
  me: number,
  target: number,
  payload: Uint8Array,
): { towards: TracePath; back: TracePath | null } {
  const rd = fromBinary(Mesh.RouteDiscoverySchema, payload);
  const towards = { route: [me, ...rd.route, target], snr: rd.snrTowards.map(snrDb) };
  const hasBack = rd.snrBack.length > 0 || rd.routeBack.length > 0;
  const back = hasBack ? { route: [target, ...rd.routeBack, me], snr: rd.snrBack.map(snrDb) } : null;
  return { towards, back };
}
