import type { NodeDbEntry, Reception } from '@mmm/schemas';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The radio's node DB as the agent knows it: seeded from the node infos sent at configure time and kept current
 * from live packets (names, positions, device metrics, last heard). `changed` is set when something a map shows
 * changed (names, role, position, hops), not on every packet, so change snapshots stay rare.
 */
export class NodeDbTracker {
  private readonly nodes = new Map<number, Mutable<NodeDbEntry>>();
  changed = false;
  changes = 0;

  get size(): number {
    return this.nodes.size;
  }

  upsert(entry: NodeDbEntry): void {
    const old = this.nodes.get(entry.num);
    if (!old || significant(old) !== significant(entry)) this.markChanged();
    this.nodes.set(entry.num, { ...old, ...entry });
  }

  /** Folds a live reception into the DB. */
  apply(r: Reception): void {
    const num = r.packet.from;
    const known = this.nodes.get(num);
    const entry: Mutable<NodeDbEntry> = known ?? { num };
    if (!known) {
      this.nodes.set(num, entry);
      this.markChanged();
    }
    // Only names, role, position and hops count as a change; most packets touch none of them.
    const before = r.port === 'nodeinfo' || r.port === 'position' ? significant(entry) : undefined;
    const hopsBefore = entry.hopsAway;
    if (r.packet.rxTime > 0) entry.lastHeard = r.packet.rxTime;
    else entry.lastHeard = Math.floor(r.receivedAt / 1000);
    if (r.packet.rxSnr !== 0 || r.packet.rxRssi !== 0) entry.snr = r.packet.rxSnr;
    if (r.packet.hopStart > 0 && r.packet.hopStart >= r.packet.hopLimit)
      entry.hopsAway = r.packet.hopStart - r.packet.hopLimit;
    entry.viaMqtt = r.packet.viaMqtt;
    if (r.port === 'nodeinfo') entry.user = r.payload as NodeDbEntry['user'];
    else if (r.port === 'position') {
      const p = r.payload as NonNullable<NodeDbEntry['position']>;
      if (p.latitudeI || p.longitudeI) entry.position = p;
    } else if (r.port === 'telemetry') {
      const dm = (r.payload as { deviceMetrics?: NodeDbEntry['deviceMetrics'] }).deviceMetrics;
      if (dm) entry.deviceMetrics = dm;
    }
    if ((before !== undefined && significant(entry) !== before) || entry.hopsAway !== hopsBefore) this.markChanged();
  }

  private markChanged(): void {
    this.changed = true;
    this.changes++;
  }

  snapshot(): NodeDbEntry[] {
    return [...this.nodes.values()].map((n) => ({ ...n }));
  }
}

function significant(n: NodeDbEntry): string {
  const u = n.user;
  const p = n.position;
  return JSON.stringify([u?.longName, u?.shortName, u?.role, u?.hwModel, p?.latitudeI, p?.longitudeI, n.hopsAway]);
}
