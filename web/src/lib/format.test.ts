import { describe, expect, it } from 'vitest';
import {
  fmtAgo,
  fmtBattery,
  fmtCoord,
  fmtNum,
  fmtPercent,
  fmtSignal,
  fmtUptime,
  MISSING,
  nodeLabel,
  toMs,
} from './format.js';

describe('format', () => {
  it('keeps zero as zero and shows missing values as a dash', () => {
    expect(fmtBattery(0)).toBe('0 %');
    expect(fmtPercent(0, 1)).toBe('0.0 %');
    expect(fmtNum(0)).toBe('0');
    expect(fmtBattery(null)).toBe(MISSING);
    expect(fmtBattery(undefined)).toBe(MISSING);
    expect(fmtBattery(Number.NaN)).toBe(MISSING);
    expect(fmtBattery(101)).toBe('powered');
  });

  it('shows null coordinates as missing instead of throwing', () => {
    expect(fmtCoord(null, null)).toBe(MISSING);
    expect(fmtCoord(52.5, null)).toBe(MISSING);
    expect(fmtCoord(52.520008, 13.404954)).toBe('52.5200, 13.4050');
    expect(fmtCoord(0, 0)).toBe('0.0000, 0.0000');
  });

  it('formats signal with either half missing', () => {
    expect(fmtSignal(-92, 6.25)).toBe('-92 dBm / 6.25 dB');
    expect(fmtSignal(null, -3.5)).toBe(`${MISSING} / -3.5 dB`);
    expect(fmtSignal(null, null)).toBe(MISSING);
    expect(fmtSignal(-100, 0)).toBe('-100 dBm / 0 dB');
  });

  it('reads epoch seconds, epoch ms, ISO and SQLite times as UTC', () => {
    expect(toMs(1764272400)).toBe(1764272400_000);
    expect(toMs(1764272400_000)).toBe(1764272400_000);
    expect(toMs('2025-11-27T19:40:00.000Z')).toBe(Date.UTC(2025, 10, 27, 19, 40));
    expect(toMs('2025-11-27 19:40:00')).toBe(Date.UTC(2025, 10, 27, 19, 40));
    expect(toMs('yesterday')).toBeNull();
    expect(toMs(null)).toBeNull();
  });

  it('says how long ago', () => {
    const now = 1_000_000_000_000;
    expect(fmtAgo(now - 30_000, now)).toBe('30s ago');
    expect(fmtAgo(now - 5 * 60_000, now)).toBe('5m ago');
    expect(fmtAgo(now - 3 * 3600_000, now)).toBe('3h ago');
    expect(fmtAgo(now - 2 * 86400_000, now)).toBe('2d ago');
    expect(fmtAgo(null, now)).toBe(MISSING);
  });

  it('formats uptime and node labels', () => {
    expect(fmtUptime(90061)).toBe('1d 1h 1m');
    expect(fmtUptime(0)).toBe('0d 0h 0m');
    expect(nodeLabel({ id: '!00000001', shortName: 'AB', longName: 'Alpha Base' })).toBe('AB (Alpha Base)');
    expect(nodeLabel({ id: '!00000001', shortName: '  ', longName: null })).toBe('!00000001');
    expect(nodeLabel({ id: '!00000001', shortName: null, longName: 'Only Long' })).toBe('Only Long');
  });
});
