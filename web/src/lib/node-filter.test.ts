import { describe, expect, it } from 'vitest';
import { HOSTILE, nodeRow } from './fixtures.test-data.js';
import { EMPTY_FILTER, filterNodes, hwModelCounts, roleCounts, sortNodes } from './node-filter.js';
import { toNode } from './normalize.js';
import { ROLE_NAMES } from './roles.js';

const nodes = Array.from({ length: 130 }, (_, i) => toNode(nodeRow(i)));

describe('node filtering', () => {
  it('searches ids, short and long names, case-insensitively', () => {
    expect(filterNodes(nodes, { ...EMPTY_FILTER, text: 'node 12' }).map((n) => n.shortName)).toEqual([
      'N12',
      'N120',
      'N121',
      'N122',
      'N123',
      'N124',
      'N125',
      'N126',
      'N127',
      'N128',
      'N129',
    ]);
    expect(filterNodes(nodes, { ...EMPTY_FILTER, text: '1000000a' })).toHaveLength(1);
    expect(filterNodes(nodes, { ...EMPTY_FILTER, text: 'n7' }).map((n) => n.id)).toContain('!10000007');
    const hostile = toNode(nodeRow(999, { long_name: HOSTILE }));
    expect(filterNodes([hostile], { ...EMPTY_FILTER, text: '<img' })).toHaveLength(1);
  });

  it('counts hardware models and filters by one', () => {
    const counts = hwModelCounts(nodes);
    expect(counts.reduce((s, c) => s + c.count, 0)).toBe(130);
    expect(counts.find((c) => c.model === 'TBEAM')?.count).toBe(44);
    expect(filterNodes(nodes, { ...EMPTY_FILTER, hwModel: 'TBEAM' })).toHaveLength(44);
  });

  it('filters by any firmware role 0–12, chips OR-combined', () => {
    const counts = roleCounts(nodes);
    expect([...counts.keys()]).toEqual([...ROLE_NAMES]);
    for (const r of ROLE_NAMES) {
      expect(filterNodes(nodes, { ...EMPTY_FILTER, roles: new Set([r]) })).toHaveLength(counts.get(r)!);
      expect(counts.get(r)).toBe(10);
    }
    expect(filterNodes(nodes, { ...EMPTY_FILTER, roles: new Set(['CLIENT_BASE', 'LOST_AND_FOUND']) })).toHaveLength(20);
  });

  it('filters GPS and battery, with zero battery counting as low', () => {
    expect(filterNodes(nodes, { ...EMPTY_FILTER, hasGps: true }).every((n) => n.lat !== null)).toBe(true);
    expect(filterNodes(nodes, { ...EMPTY_FILTER, hasGps: true })).toHaveLength(97);
    const low = filterNodes(nodes, { ...EMPTY_FILTER, batteryLow: true });
    expect(low.some((n) => n.battery === 0)).toBe(true);
    expect(low.every((n) => n.battery !== null && n.battery < 30)).toBe(true);
    expect(filterNodes(nodes, { ...EMPTY_FILTER, batteryHigh: true }).every((n) => (n.battery ?? 0) > 70)).toBe(true);
    // GPS narrows the role selection
    const routersWithGps = filterNodes(nodes, { ...EMPTY_FILTER, roles: new Set(['ROUTER']), hasGps: true });
    expect(routersWithGps.every((n) => n.role === 'ROUTER' && n.lat !== null)).toBe(true);
  });

  it('filters by activity and time window', () => {
    expect(filterNodes(nodes, { ...EMPTY_FILTER, activeOnly: true })).toHaveLength(104);
    expect(filterNodes(nodes, { ...EMPTY_FILTER, hours: 1 }).length).toBeGreaterThanOrEqual(60);
    expect(filterNodes(nodes, { ...EMPTY_FILTER, hours: 1 }).length).toBeLessThanOrEqual(61);
  });
});

describe('node sorting', () => {
  it('sorts by each column, missing values last in both directions', () => {
    const withNull = [...nodes, toNode({ node_id: '!ffffffff0', battery_level: null })];
    const asc = sortNodes(withNull, 'battery', 'asc');
    const desc = sortNodes(withNull, 'battery', 'desc');
    expect(asc[0]!.battery).toBe(0);
    expect(asc.at(-1)!.battery).toBeNull();
    expect(desc[0]!.battery).toBe(100);
    expect(desc.at(-1)!.battery).toBeNull();
    expect(sortNodes(nodes, 'id', 'asc')[0]!.id).toBe('!10000000');
    expect(sortNodes(nodes, 'packets', 'desc')[0]!.packets).toBe(129);
    expect(sortNodes(nodes, 'lastHeard', 'desc')[0]!.shortName).toBe('N0');
    expect(sortNodes(nodes, 'name', 'asc')[0]!.shortName).toBe('N0');
    expect(sortNodes(nodes, 'hops', 'asc')[0]!.hops).toBe(0);
  });
});
