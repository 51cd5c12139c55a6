/**
 * Which nodes may have relayed a packet, from the low byte of the relayer's number (MeshPacket.relay_node):
 * every known node whose number ends in that byte, narrowed to the receiver's neighbours when any of them match
 * (the relayer was necessarily heard directly by the receiver).
 */
export function relayCandidates(
  relayByte: number,
  knownByLowByte: ReadonlyMap<number, ReadonlySet<number>>,
  neighbours: ReadonlySet<number>,
): { candidates: number[]; narrowed: boolean } {
  const all = [...(knownByLowByte.get(relayByte & 0xff) ?? [])].sort((a, b) => a - b);
  const near = all.filter((n) => neighbours.has(n));
  return near.length > 0 ? { candidates: near, narrowed: true } : { candidates: all, narrowed: false };
}
