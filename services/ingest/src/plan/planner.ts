import type { MeshEvent, PayloadOf, Reception } from '@mmm/schemas';
import { type NodeIdentity, nodeInfoChange } from './node-info.js';
import { nodedbRows, packetRows, receptionMsgId, receptionRow, statusRow, traceOutcomeRows } from './rows.js';
import { type Row, TABLES, type TableName } from './tables.js';

/** One decoded message of a batch. */
export interface Item {
  readonly seq: number;
  readonly subject: string;
  readonly event: MeshEvent;
  /** Delivered before (by JetStream): an earlier attempt may have stored part of its rows. */
  readonly redelivered: boolean;
}

/** What the store already holds for the keys of a batch. */
export interface Known {
  /** Reception msg_ids already stored. */
  readonly msgIds: ReadonlySet<string>;
  /** `from:id` of packets with at least one stored reception. */
  readonly packets: ReadonlySet<string>;
  /** Latest recorded identity of the batch's nodes (missing = none recorded). */
  readonly nodeInfo: ReadonlyMap<number, NodeIdentity>;
}

export interface Plan {
  readonly rows: Record<TableName, Row[]>;
  /** Identities after this batch, to cache once the batch is committed. */
  readonly nodeInfo: Map<number, NodeIdentity>;
  /** Receptions skipped because they were stored already or repeated within the batch. */
  readonly duplicates: number;
}

export const packetKey = (from: number, id: number): string => `${from}:${id}`;

/** The keys a store must look up before planning a batch. */
export function lookupKeys(items: readonly Item[]): {
  receptions: { from: number; id: number; msgId: string }[];
  nodes: number[];
} {
  const receptions: { from: number; id: number; msgId: string }[] = [];
  const nodes = new Set<number>();
  for (const { event: ev } of items) {
    if (ev.kind === 'reception') {
      receptions.push({ from: ev.packet.from, id: ev.packet.id, msgId: receptionMsgId(ev) });
      if (ev.port === 'nodeinfo') nodes.add(ev.packet.from);
    } else if (ev.kind === 'nodedb') {
      for (const n of ev.nodes) if (n.user) nodes.add(n.num);
    }
  }
  return { receptions, nodes: [...nodes] };
}

function emptyRows(): Record<TableName, Row[]> {
  return Object.fromEntries(Object.keys(TABLES).map((t) => [t, []])) as unknown as Record<TableName, Row[]>;
}

/**
 * Turns a batch into rows, in stream order. A reception is stored once (by msg_id); the per-packet tables get rows
 * from the first stored reception of a packet only, so a packet heard by five agents is one position, not five.
 */
export function planBatch(items: readonly Item[], known: Known, now: number): Plan {
  const rows = emptyRows();
  const seenMsg = new Set<string>();
  const seenPacket = new Set<string>();
  const nodeInfo = new Map(known.nodeInfo);
  let duplicates = 0;
  const reception = (ev: Reception, seq: number) => {
    const msgId = receptionMsgId(ev);
    if (known.msgIds.has(msgId) || seenMsg.has(msgId)) {
      duplicates++;
      return;
    }
    seenMsg.add(msgId);
    const pk = packetKey(ev.packet.from, ev.packet.id);
    const isFirst = !known.packets.has(pk) && !seenPacket.has(pk);
    seenPacket.add(pk);
    rows.receptions.push(receptionRow(ev, msgId, isFirst, seq, now));
    if (!isFirst) return;
    for (const [table, list] of Object.entries(packetRows(ev, now))) rows[table as TableName].push(...list);
    if (ev.port === 'nodeinfo') {
      const change = nodeInfoChange(
        nodeInfo,
        {
          node: ev.packet.from,
          user: ev.payload as PayloadOf<'nodeinfo'>,
          at: ev.receivedAt,
          source: 'nodeinfo',
          site: ev.site,
          agent: ev.agent,
          packetId: ev.packet.id,
        },
        now,
      );
      if (change) rows.node_info.push(change);
    }
  };
  for (const { event: ev, seq } of items) {
    switch (ev.kind) {
      case 'reception':
        reception(ev, seq);
        break;
      case 'trace': {
        const t = traceOutcomeRows(ev, now);
        rows.traceroutes.push(...t.traceroutes);
        rows.traceroute_hops.push(...t.traceroute_hops);
        break;
      }
      case 'status':
        rows.agent_status.push(statusRow(ev, now));
        break;
      case 'nodedb': {
        rows.nodedb.push(...nodedbRows(ev, now));
        for (const n of ev.nodes) {
          if (!n.user) continue;
          const at = n.lastHeard ? n.lastHeard * 1000 : ev.takenAt;
          const change = nodeInfoChange(
            nodeInfo,
            { node: n.num, user: n.user, at, source: 'nodedb', site: ev.site, agent: ev.agent, packetId: 0 },
            now,
          );
          if (change) rows.node_info.push(change);
        }
        break;
      }
      default:
        // Topology and dead-letter events live in their own streams; nothing of theirs is history here.
        break;
    }
  }
  return { rows, nodeInfo, duplicates };
}
