import { commandSubjects, parseCommandReply, type TextCommand } from '@mmm/schemas';
import type { KV, NatsConnection } from 'nats';
import type { AlertsConfig } from '../config.js';
import { meshText } from '../domain/mesh-text.js';
import type { OutboxItem } from './outbox.js';

/** Outbox target names of mesh targets carry this prefix, so a webhook and a mesh target may share a name. */
export const MESH_TARGET_PREFIX = 'mesh:';

export interface MeshTarget {
  /** `mesh:<name>` */
  target: string;
  site: string;
  agent: string;
  to?: string | undefined;
  channel: number;
  rules: readonly string[];
  minIntervalMs: number;
  timeoutMs: number;
  maxAgeMs: number;
  backoffMaxMs: number;
}

export function meshTargetsFromConfig(cfg: AlertsConfig): MeshTarget[] {
  return Object.entries(cfg.mesh).map(([name, m]) => ({
    target: `${MESH_TARGET_PREFIX}${name}`,
    site: m.site,
    agent: m.agent,
    to: m.to,
    channel: m.channel,
    rules: m.rules ?? [],
    minIntervalMs: m.min_interval * 1000,
    timeoutMs: m.timeout,
    maxAgeMs: m.max_age * 1000,
    backoffMaxMs: m.backoff_max,
  }));
}

/** Key in the state bucket holding when a mesh target last took a notification. */
const lastKey = (target: string) => `meshlast.${target.slice(MESH_TARGET_PREFIX.length)}`;

/**
 * The rate limit of mesh targets: a notification within `min_interval` of the last one this target took is dropped
 * (and counted), not delayed: a text that arrives minutes late on a radio screen says less than none, and the
 * webhooks and the API still have every alert. The time of the last taken one is kept in the state bucket, so a
 * restart does not open the gate again.
 */
export class MeshRateLimit {
  private constructor(
    private readonly state: KV,
    private readonly last: Map<string, number>,
  ) {}

  static async load(state: KV, targets: readonly MeshTarget[]): Promise<MeshRateLimit> {
    const last = new Map<string, number>();
    for (const t of targets) {
      const e = await state.get(lastKey(t.target));
      if (e?.operation === 'PUT') last.set(t.target, Number(e.string()));
    }
    return new MeshRateLimit(state, last);
  }

  /**
   * Splits an evaluation's mesh items into those to send and those dropped, oldest first. An evaluation repeated
   * after a crash may drop an item it admitted before: that one is already in the outbox (written before the time).
   */
  admit(
    items: readonly OutboxItem[],
    targets: ReadonlyMap<string, MeshTarget>,
  ): { take: OutboxItem[]; dropped: OutboxItem[] } {
    const take: OutboxItem[] = [];
    const dropped: OutboxItem[] = [];
    for (const i of items) {
      const t = targets.get(i.target);
      if (!t) {
        take.push(i);
        continue;
      }
      const last = this.last.get(t.target);
      if (last !== undefined && i.createdAt - last < t.minIntervalMs) {
        dropped.push(i);
        continue;
      }
      this.last.set(t.target, i.createdAt);
      take.push(i);
    }
    return { take, dropped };
  }

  /** Written after the items themselves: a crash in between admits the same items again, under the same keys. */
  async save(taken: readonly OutboxItem[]): Promise<void> {
    const targets = new Set(taken.map((i) => i.target).filter((t) => t.startsWith(MESH_TARGET_PREFIX)));
    for (const t of targets) await this.state.put(lastKey(t), String(this.last.get(t)));
  }
}

/** One attempt: a request to the agent, answered once its radio took the text. undefined when delivered. */
export async function sendMeshText(nc: NatsConnection, t: MeshTarget, item: OutboxItem): Promise<string | undefined> {
  const body: TextCommand = {
    key: item.key,
    text: meshText(item.type, item.alert),
    channel: t.channel,
    ...(t.to ? { to: t.to } : {}),
  };
  const m = await nc.request(commandSubjects.text(t.site, t.agent), JSON.stringify(body), { timeout: t.timeoutMs });
  const reply = parseCommandReply(m.string());
  if (!reply.ok) return reply.error;
  return reply.value.ok ? undefined : `agent: ${reply.value.error}`;
}
