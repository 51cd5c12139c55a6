import { JetStreamPublisher } from '@mmm/common';
import { assertEvent, msgIdOf, PORTNUM, type Reception, subjectOf } from '@mmm/schemas';
import { connect, type NatsConnection } from 'nats';

const enc = new TextEncoder();
const TICK_MS = 100;

interface Agent {
  readonly site: string;
  readonly agent: string;
  readonly node: number;
  /** Packet id of the last reception issued; each reception is its own packet, ids rise per agent. */
  lastId: number;
}

/** One reception as an agent publishes it (contract event, subjectOf/msgIdOf from @mmm/schemas). */
export function reception(a: { site: string; agent: string; node: number }, id: number, at: number): Reception {
  return {
    v: 1,
    kind: 'reception',
    site: a.site,
    agent: a.agent,
    receivedAt: at,
    source: 'radio',
    port: 'position',
    packet: {
      from: a.node,
      to: 0xffffffff,
      id,
      channel: 0,
      rxTime: Math.floor(at / 1000),
      rxSnr: 6.25,
      rxRssi: -90,
      hopStart: 3,
      hopLimit: 2,
      relayNode: 0,
      nextHop: 0,
      wantAck: false,
      viaMqtt: false,
      priority: 64,
      pkiEncrypted: false,
    },
    encryption: 'decrypted',
    data: {
      portnum: PORTNUM.POSITION_APP,
      wantResponse: false,
      dest: 0,
      source: 0,
      requestId: 0,
      replyId: 0,
      emoji: 0,
    },
    payload: { latitudeI: 520_000_000 + id, longitudeI: 134_000_000, altitude: 40, time: Math.floor(at / 1000) },
    raw: 'AAECAwQF',
  } as unknown as Reception;
}

/**
 * Receptions from every site's agents into their site's leaf at a steady total rate, published the way the agent
 * does (Msg-Id, bounded window, retried until the leaf stored it). Counts what the leaves acknowledged.
 */
export class SiteLoad {
  private readonly agents: Agent[] = [];
  private readonly publishers = new Map<string, JetStreamPublisher>();
  private readonly pending = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private credit = 0;
  private next = 0;
  /** Receptions stored by their leaf. */
  acked = 0;
  issued = 0;

  private constructor(private readonly conns: NatsConnection[]) {}

  static async start(leafUrls: Record<string, string>, agentsPerSite = 2): Promise<SiteLoad> {
    const conns: NatsConnection[] = [];
    const load = new SiteLoad(conns);
    let s = 0;
    for (const [site, url] of Object.entries(leafUrls)) {
      const nc = await connect({ servers: url, maxReconnectAttempts: -1, name: `load-${site}` });
      conns.push(nc);
      load.publishers.set(site, new JetStreamPublisher(nc.jetstream(), { window: 256 }));
      for (let i = 0; i < agentsPerSite; i++)
        load.agents.push({ site, agent: `gw${i + 1}`, node: 0x30000000 + s * 64 + i, lastId: 0 });
      s++;
    }
    assertEvent(reception(load.agents[0]!, 1, Date.now()));
    return load;
  }

  /** Agents as `site/agent` with the last packet id issued (the ids of one agent are 1..lastId). */
  issuedPerAgent(): Map<string, number> {
    return new Map(this.agents.map((a) => [`${a.site}/${a.agent}`, a.lastId]));
  }

  /** Starts (or changes) publishing at `perSecond` receptions per second over all agents of all sites. */
  run(perSecond: number): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      this.credit += (perSecond * TICK_MS) / 1000;
      const now = Date.now();
      while (this.credit >= 1) {
        this.credit -= 1;
        const a = this.agents[this.next++ % this.agents.length]!;
        const ev = reception(a, ++a.lastId, now);
        this.issued++;
        const p = this.publishers
          .get(a.site)!
          .publish(subjectOf(ev), enc.encode(JSON.stringify(ev)), msgIdOf(ev))
          .then(() => {
            this.acked++;
          });
        this.pending.add(p);
        void p.finally(() => this.pending.delete(p));
      }
    }, TICK_MS);
  }

  /** Stops issuing and waits until the leaves stored everything issued. */
  async pause(): Promise<number> {
    clearInterval(this.timer);
    this.timer = undefined;
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    return this.acked;
  }

  async close(): Promise<void> {
    await this.pause();
    await Promise.all(this.conns.map((nc) => nc.close()));
  }
}
