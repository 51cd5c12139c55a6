import { describe, expect, it } from 'vitest';
import { ContractError } from './errors.js';
import { nodeIdFromNum, nodeNumFromId, roleName } from './nodes.js';
import { msgIds, streams } from './streams.js';
import { AGENT_EVENT_KINDS, parseSubject, subjects } from './subjects.js';

describe('subjects', () => {
  it('builds and parses every kind of subject', () => {
    const cases = [
      [subjects.rx('berlin', 'gw-1', 'position'), { kind: 'rx', site: 'berlin', agent: 'gw-1', port: 'position' }],
      [subjects.nodedb('berlin', 'gw-1'), { kind: 'nodedb', site: 'berlin', agent: 'gw-1' }],
      [subjects.trace('berlin', 'gw_1'), { kind: 'trace', site: 'berlin', agent: 'gw_1' }],
      [subjects.status('B2', 'a'), { kind: 'status', site: 'B2', agent: 'a' }],
      [subjects.topology('link'), { kind: 'topology', topology: 'link' }],
      [subjects.deadLetter('ingest'), { kind: 'deadletter', service: 'ingest' }],
    ] as const;
    for (const [subject, parsed] of cases) expect(parseSubject(subject)).toEqual(parsed);
    expect(subjects.rx('berlin', 'gw-1', 'text')).toBe('mesh.v1.berlin.gw-1.rx.text');
    for (const kind of AGENT_EVENT_KINDS)
      expect(parseSubject(subjects.site('berlin', 'gw-1', kind))).toEqual({ kind, site: 'berlin', agent: 'gw-1' });
    expect(() => subjects.site('berlin', 'gw-1', 'rx' as never)).toThrow(ContractError);
    expect(() => parseSubject('mesh.v1.berlin.gw-1.foo')).toThrow(ContractError);
  });

  it('rejects unsafe tokens with a message naming the token and the character', () => {
    expect(() => subjects.rx('ber.lin', 'a', 'text')).toThrow(/site id "ber.lin" contains '\.'/);
    expect(() => subjects.nodedb('s', 'a b')).toThrow(/agent id "a b" contains whitespace/);
    expect(() => subjects.trace('s', '>')).toThrow(ContractError);
    expect(() => subjects.status('s', '*')).toThrow(/contains '\*'/);
    expect(() => subjects.status('', 'a')).toThrow(/must not be empty/);
    expect(() => subjects.status('x'.repeat(65), 'a')).toThrow(/at most 64/);
    expect(() => subjects.rx('derived', 'a', 'text')).toThrow(/reserved/);
    expect(() => subjects.rx('s', 'a', 'bogus' as never)).toThrow(/port "bogus"/);
  });

  it('rejects subjects outside the tree', () => {
    expect(() => parseSubject('other.v1.s.a.rx.text')).toThrow(/not under mesh\.v1/);
    expect(() => parseSubject('mesh.v1.s.a.rx.nope')).toThrow(/unknown port/);
    expect(() => parseSubject('mesh.v1.s.a.weird')).toThrow(/not a known event subject/);
  });

  it('builds consumer filters with wildcards for omitted tokens', () => {
    expect(subjects.rxFilter()).toBe('mesh.v1.*.*.rx.*');
    expect(subjects.rxFilter({ site: 's', port: 'telemetry' })).toBe('mesh.v1.s.*.rx.telemetry');
    expect(subjects.kindFilter('trace')).toBe('mesh.v1.*.*.trace');
  });
});

describe('msg ids and streams', () => {
  it('gives two agents hearing one packet different ids, and one agent the same id on retry', () => {
    const a = msgIds.reception('s', 'a1', 0xdeadbeef, 42, 1_700_000_000, 1);
    const b = msgIds.reception('s', 'a2', 0xdeadbeef, 42, 1_700_000_000, 1);
    expect(a).not.toBe(b);
    expect(msgIds.reception('s', 'a1', 0xdeadbeef, 42, 1_700_000_000, 999)).toBe(a);
    // without a radio clock the agent's receive time keeps repeated packet ids apart
    expect(msgIds.reception('s', 'a1', 1, 42, 0, 5)).not.toBe(msgIds.reception('s', 'a1', 1, 42, 0, 6));
  });
  it('names streams and domains per site', () => {
    expect(streams.site('berlin')).toBe('MESH_berlin');
    expect(streams.domain('berlin')).toBe('berlin');
    expect(() => streams.site('a.b')).toThrow(ContractError);
  });
});

describe('node ids', () => {
  it('round-trips numbers and ids, including the broadcast address', () => {
    expect(nodeIdFromNum(0xdeadbeef)).toBe('!deadbeef');
    expect(nodeIdFromNum(1)).toBe('!00000001');
    expect(nodeNumFromId('!DEADBEEF')).toBe(0xdeadbeef);
    expect(nodeNumFromId('^all')).toBe(0xffffffff);
    expect(nodeNumFromId('3735928559')).toBe(0xdeadbeef);
    expect(() => nodeNumFromId('!xyz')).toThrow(/not of the form/);
    expect(() => nodeIdFromNum(-1)).toThrow(ContractError);
  });
  it('names every firmware role 0-12 and keeps unknown ones visible', () => {
    expect(roleName(undefined)).toBe('CLIENT');
    expect(roleName(11)).toBe('ROUTER_LATE');
    expect(roleName(12)).toBe('CLIENT_BASE');
    expect(roleName(13)).toBe('ROLE_13');
  });
});
