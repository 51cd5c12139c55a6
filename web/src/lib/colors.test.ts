import { describe, expect, it } from 'vitest';
import { batteryClass, HOP_COLORS, LOW_BATTERY_COLOR, nodeColor, snrColor } from './colors.js';

describe('map colours', () => {
  it("uses the original's hop palette, 5+ grey", () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((h) => nodeColor(h, 80))).toEqual([
      '#2E7D32',
      '#4CAF50',
      '#FF9800',
      '#F57C00',
      '#f44336',
      '#9E9E9E',
      '#9E9E9E',
    ]);
    expect(HOP_COLORS).toHaveLength(6);
  });

  it('lets low battery override the hop colour, and zero battery counts as low', () => {
    expect(nodeColor(0, 19)).toBe(LOW_BATTERY_COLOR);
    expect(nodeColor(0, 0)).toBe(LOW_BATTERY_COLOR);
    expect(nodeColor(0, 20)).toBe('#2E7D32');
    expect(nodeColor(0, null)).toBe('#2E7D32');
  });

  it('falls back to activity when hops are unknown', () => {
    expect(nodeColor(null, null, true)).toBe('#4CAF50');
    expect(nodeColor(null, null, false)).toBe('#FF9800');
  });

  it('grades SNR and battery', () => {
    expect(snrColor(10)).toBe('#2E7D32');
    expect(snrColor(-20)).toBe('#f44336');
    expect(snrColor(null)).toBe('#9E9E9E');
    expect(batteryClass(0)).toBe('bad');
    expect(batteryClass(51)).toBe('good');
    expect(batteryClass(null)).toBe('none');
  });
});
