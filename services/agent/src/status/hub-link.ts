import { streams } from '@mmm/schemas';
import type { NatsConnection } from 'nats';

/** What the hub says, through the leaf, about its sourcing of this site's stream. */
export interface HubLink {
  /** The hub answered through the leaf's link. */
  readonly connected: boolean;
  /** Site-stream messages the hub's source has still to take; undefined while the source is not active. */
  readonly backlog?: number;
}

const TIMEOUT_MS = 2_000;

/**
 * Asks the hub, in its JetStream domain and across the leafnode link, for its `MESH` stream's view of this site's
 * source. The leaf itself cannot tell: the hub's sourcing consumer on the site stream is internal and not listed.
 * A link that is down answers at once with "no responders"; a link that is half dead times out. Either means the
 * hub is not taking events now.
 */
export async function readHubLink(nc: NatsConnection, hubDomain: string, site: string): Promise<HubLink> {
  try {
    const jsm = await nc.jetstreamManager({ domain: hubDomain, timeout: TIMEOUT_MS, checkAPI: false });
    const info = await jsm.streams.info(streams.hub);
    const source = info.sources?.find((s) => s.name === streams.site(site));
    // `active` is the time since the source last heard from the site; -1 while it (re)establishes.
    if (!source || source.active < 0) return { connected: true };
    return { connected: true, backlog: source.lag };
  } catch {
    return { connected: false };
  }
}
