import { nodeIdFromNum } from '@mmm/schemas';
import type { LinkBook, LinkChange } from './links.js';
import type { Touched } from './observe.js';
import { inScope, type Rule } from './rule.js';
import type { World } from './world.js';

/**
 * Applies one link change from route analysis to the link book and to the `link_quality` rules of the two nodes it
 * concerns. A node's condition is its best link in either direction: below `threshold` % it holds, from
 * `threshold + hysteresis` % it ends. Nodes not heard yet are left alone (their links are kept for later changes).
 */
export function observeLink(
  world: World,
  book: LinkBook,
  rules: readonly Rule[],
  change: LinkChange,
  at: number,
  touched: Touched,
): void {
  for (const num of book.apply(change)) {
    const node = world.nodes.get(num);
    const best = book.best(num);
    if (!node || !best) continue;
    touched.nodes.add(num);
    const percent = Math.round(best.quality * 100);
    const other = best.other === undefined ? undefined : nodeIdFromNum(best.other);
    for (const rule of rules) {
      if (!rule.enabled || rule.kind !== 'link_quality') continue;
      if (!inScope(rule, { num, site: node.site, agent: node.agent, role: node.role })) continue;
      const c = node.conds;
      if (percent < rule.threshold) {
        c[rule.name] = { since: c[rule.name]?.since ?? at, value: percent, ...(other ? { detail: other } : {}) };
      } else if (percent >= rule.threshold + rule.hysteresis) delete c[rule.name];
      else if (c[rule.name]) c[rule.name]!.value = percent;
    }
  }
}
