import { isPermissionError, NotProvisionedError } from '@mmm/common';
import { type AlertEvent, alertKeys } from '@mmm/schemas';
import type { JetStreamClient, KV } from 'nats';
import type { Book, Tracked } from '../domain/evaluator.js';
import type { AgentState, NodeState, World } from '../domain/world.js';

/** KV operations in flight at once: enough to pipeline, few enough not to time out. */
const KV_WINDOW = 256;
/** Nodes are checkpointed in this many keys (by node number), so a busy mesh rewrites small values. */
export const NODE_SHARDS = 64;

export interface Meta {
  lastSeq: number;
  /** Rule name -> definition when it was established (see Evaluator.established). */
  established: [string, string][];
  savedAt: number;
}

const enc = new TextEncoder();
const json = (v: unknown) => enc.encode(JSON.stringify(v));

export async function openBucket(js: JetStreamClient, name: string, replicas: number): Promise<KV> {
  return js.views.kv(name, { history: 1, replicas }).catch((err: unknown) => {
    if (!isPermissionError(err)) throw err;
    throw new NotProvisionedError(
      `KV bucket ${name} does not exist and this NATS user may not create it: provision it with \`mmm streams provision\` as admin`,
      { cause: err },
    );
  });
}

export async function windowed<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += KV_WINDOW) await Promise.all(items.slice(i, i + KV_WINDOW).map(fn));
}

async function keys(kv: KV, filter: string): Promise<string[]> {
  const out: string[] = [];
  for await (const k of await kv.keys(filter)) out.push(k);
  return out;
}

async function values<T>(kv: KV, filter: string): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  await windowed(await keys(kv, filter), async (k) => {
    const e = await kv.get(k);
    if (e?.operation === 'PUT') out.set(k, e.json<T>());
  });
  return out;
}

export const shardOf = (num: number) => num % NODE_SHARDS;
const shardKey = (i: number) => `world.n.${i}`;
const bookKey = (id: string) => `book.${id}`;

/**
 * The service's own bucket: the checkpoint (meta, node shards, agents), each alert's book, and the notification
 * outbox. Public alerts live in their own bucket, written here too.
 */
export class Store {
  constructor(
    readonly alerts: KV,
    readonly state: KV,
  ) {}

  async loadCheckpoint(): Promise<{ meta: Meta; world: World } | undefined> {
    const m = await this.state.get('meta');
    if (m?.operation !== 'PUT') return undefined;
    const meta = m.json<Meta>();
    const world: World = { nodes: new Map(), agents: new Map() };
    for (const nodes of (await values<NodeState[]>(this.state, 'world.n.*')).values()) {
      for (const n of nodes) world.nodes.set(n.num, n);
    }
    const agents = await this.state.get('world.agents');
    if (agents?.operation === 'PUT')
      for (const a of agents.json<AgentState[]>()) world.agents.set(`${a.site}/${a.agent}`, a);
    return { meta, world };
  }

  /** Dirty node shards and the agents first, the meta that vouches for them last. */
  async saveCheckpoint(world: World, shards: ReadonlySet<number>, meta: Meta): Promise<void> {
    const byShard = new Map<number, NodeState[]>([...shards].map((s) => [s, []]));
    for (const n of world.nodes.values()) byShard.get(shardOf(n.num))?.push(n);
    await windowed([...byShard], ([s, nodes]) => this.state.put(shardKey(s), json(nodes)));
    await this.state.put('world.agents', json([...world.agents.values()]));
    await this.state.put('meta', json(meta));
  }

  async loadAlerts(): Promise<Tracked[]> {
    const alerts = await values<AlertEvent>(this.alerts, 'alert.>');
    const books = await values<Book>(this.state, 'book.>');
    return [...alerts.values()].map((alert) => ({
      alert,
      // A book lost with a crash between the two writes: assume people were told (never tell twice).
      book: books.get(bookKey(alert.id)) ?? {
        key: '',
        notified: true,
        baseline: false,
        lastNotifiedAt: alert.at,
        notices: 1,
      },
    }));
  }

  /** Book first: a public alert always has the book that says whether it was notified. */
  async saveAlerts(changed: readonly Tracked[]): Promise<void> {
    await windowed(changed, (t) => this.state.put(bookKey(t.alert.id), json(t.book)));
    await windowed(changed, (t) => this.alerts.put(alertKeys.alert(t.alert.id), json(t.alert)));
  }

  async deleteAlerts(ids: readonly string[]): Promise<void> {
    await windowed(ids, async (id) => {
      await this.alerts.delete(alertKeys.alert(id));
      await this.state.delete(bookKey(id));
    });
  }
}

export function repairBookKeys(items: Tracked[]): void {
  for (const t of items) {
    if (t.book.key) continue;
    const subject = t.alert.node_id
      ? `n${Number.parseInt(t.alert.node_id.slice(1), 16)}`
      : `a${t.alert.site}/${t.alert.agent_id}`;
    t.book.key = `${t.alert.rule}|${subject}`;
  }
}
