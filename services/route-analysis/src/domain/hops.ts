/**
 * Hop distance of every node to `agentNode`: breadth-first over links towards the agent (u -> v means v hears u),
 * which is what a node's "hops away" means in Meshtastic: how many hops its packets take to reach us.
 */
export function hopDistances(agentNode: number, incoming: ReadonlyMap<number, readonly number[]>): Map<number, number> {
  const dist = new Map<number, number>([[agentNode, 0]]);
  let frontier = [agentNode];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const v of frontier) {
      const d = dist.get(v)! + 1;
      for (const u of incoming.get(v) ?? []) {
        if (dist.has(u)) continue;
        dist.set(u, d);
        next.push(u);
      }
    }
    frontier = next;
  }
  return dist;
}
