import { parseTopologyLinkKey, TOPOLOGY_BUCKET } from '@mmm/schemas';
import type { JetStreamClient } from 'nats';
import type { Logger } from 'pino';
import type { LinkChange } from '../domain/links.js';

const RETRY_MS = 10_000;

/**
 * Follows route analysis's public snapshot bucket, one `link.<from>.<to>` key per current link, for the link_quality
 * rules. Watching replays every current link first, so nothing of it needs a checkpoint. The bucket may not exist
 * (route analysis not provisioned or not started yet): the service works without it and keeps trying.
 */
export function followTopology(
  js: JetStreamClient,
  onLink: (change: LinkChange) => void,
  log: Logger,
): { stop(): void } {
  let stopped = false;
  let stopWatch: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let warned = false;
  const attempt = async () => {
    try {
      const kv = await js.views.kv(TOPOLOGY_BUCKET, { bindOnly: true });
      // The last value of every key first (a deleted link as its delete marker), then each change.
      const w = await kv.watch({ key: 'link.>' });
      stopWatch = () => w.stop();
      if (stopped) w.stop();
      log.info({ bucket: TOPOLOGY_BUCKET }, 'following the topology snapshot for link rules');
      warned = false;
      for await (const e of w) {
        const key = parseTopologyLinkKey(e.key);
        if (!key) continue;
        if (e.operation !== 'PUT') {
          onLink({ ...key, quality: undefined });
          continue;
        }
        try {
          const q = e.json<{ quality?: unknown } | null>()?.quality;
          if (typeof q !== 'number' || !(q >= 0 && q <= 1)) throw new Error(`quality ${JSON.stringify(q)}`);
          onLink({ ...key, quality: q });
        } catch (err) {
          log.warn({ key: e.key, err: (err as Error).message }, 'ignored a topology entry');
        }
      }
    } catch (err) {
      if (!warned) log.warn({ err: (err as Error).message }, 'no topology snapshot to follow yet: link rules wait');
      warned = true;
    }
    if (!stopped) timer = setTimeout(() => void attempt(), RETRY_MS);
  };
  void attempt();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      stopWatch?.();
    },
  };
}
