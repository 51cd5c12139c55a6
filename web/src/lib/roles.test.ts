import { describe, expect, it } from 'vitest';
import { ROLE_NAMES, roleColor, roleName } from './roles.js';

describe('roles', () => {
  it('names every firmware role 0–12', () => {
    const expected = [
      'CLIENT',
      'CLIENT_MUTE',
      'ROUTER',
      'ROUTER_CLIENT',
      'REPEATER',
      'TRACKER',
      'SENSOR',
      'TAK',
      'CLIENT_HIDDEN',
      'LOST_AND_FOUND',
      'TAK_TRACKER',
      'ROUTER_LATE',
      'CLIENT_BASE',
    ];
    expect(expected.map((_, i) => roleName(i))).toEqual(expected);
    expect(ROLE_NAMES).toEqual(expected);
  });

  it('treats a missing role as CLIENT (the protobuf default is absent on the wire)', () => {
    expect(roleName(undefined)).toBe('CLIENT');
    expect(roleName(null)).toBe('CLIENT');
    expect(roleName('')).toBe('CLIENT');
  });

  it('accepts names and numeric strings, and keeps unknown numbers visible', () => {
    expect(roleName('router_late')).toBe('ROUTER_LATE');
    expect(roleName('11')).toBe('ROUTER_LATE');
    expect(roleName(12)).toBe('CLIENT_BASE');
    expect(roleName(42)).toBe('ROLE_42');
  });

  it('gives each role a badge colour and unknown ones grey', () => {
    expect(roleColor('ROUTER')).toBe('#d32f2f');
    expect(roleColor('ROLE_42')).toBe('#757575');
    for (const r of ROLE_NAMES) expect(roleColor(r)).toMatch(/^#[0-9a-f]{6}$/);
  });
});
