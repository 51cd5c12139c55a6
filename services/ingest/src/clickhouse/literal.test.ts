import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { type ClickHouseServer, startClickHouse } from '@mmm/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiteralError, sqlIdentifier, sqlList, sqlLiteral } from './literal.js';

const HOSTILE = [
  "O'Brien",
  'back\\slash',
  "\\'",
  "'; DROP TABLE receptions; --",
  'line1\nline2\r\n\ttab',
  'nul\u0000byte\u0000\u0000',
  'bell\u0007 del\u007f esc\u001b',
  'émoji 🛰️ 漢字 ‮rtl',
  '\\x00 literal backslash-x',
  '',
  '?{id:UInt32}',
];

describe('sqlLiteral', () => {
  let ch: ClickHouseServer;
  let client: ClickHouseClient;
  beforeAll(async () => {
    ch = await startClickHouse();
    client = createClient({ url: ch.url });
  });
  afterAll(async () => {
    await client?.close();
    await ch?.dispose();
  });

  async function roundTrip(lit: string): Promise<unknown> {
    const rs = await client.query({
      query: `SELECT ${lit} AS v`,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    const rows = (await rs.json()) as { v: unknown }[];
    return rows[0]?.v;
  }

  it('round-trips hostile strings through the real server byte for byte', async () => {
    for (const s of HOSTILE) expect(await roundTrip(sqlLiteral(s))).toBe(s);
  });

  it('keeps an injection attempt inside one string', async () => {
    const lit = sqlLiteral("x') UNION ALL SELECT 'pwned");
    const rs = await client.query({ query: `SELECT count() AS c FROM (SELECT ${lit} AS v)`, format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ c: '1' }]);
  });

  it('writes numbers exactly, negative ones included', async () => {
    expect(await roundTrip(sqlLiteral(4294967295))).toBe(4294967295);
    expect(await roundTrip(sqlLiteral(1764230400123))).toBe(1764230400123);
    expect(await roundTrip(sqlLiteral(-12.75))).toBe(-12.75);
    expect(await roundTrip(`1 - ${sqlLiteral(-3)}`)).toBe(4);
    expect(sqlLiteral(1e21)).toBe('1000000000000000000000');
    expect(sqlLiteral(0)).toBe('0');
    expect(sqlLiteral(-0)).toBe('0');
    expect(sqlLiteral(12345678901234567890n)).toBe('12345678901234567890');
    expect(sqlLiteral(true)).toBe('1');
    expect(sqlLiteral(null)).toBe('NULL');
  });

  it('rejects NaN, infinities and objects', () => {
    expect(() => sqlLiteral(Number.NaN)).toThrow(LiteralError);
    expect(() => sqlLiteral(Number.POSITIVE_INFINITY)).toThrow(/Infinity/);
    expect(() => sqlLiteral(Number.NEGATIVE_INFINITY)).toThrow(LiteralError);
    expect(() => sqlLiteral({} as never)).toThrow(LiteralError);
  });

  it('writes arrays and IN lists', async () => {
    expect(await roundTrip(sqlLiteral(["a'b", 'c\nd']))).toEqual(["a'b", 'c\nd']);
    expect(sqlList([1, 2, 3])).toBe('(1, 2, 3)');
    const rs = await client.query({ query: `SELECT 1 AS v WHERE 'x' IN ${sqlList([])}`, format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([]);
  });

  it('accepts only plain identifiers', () => {
    expect(sqlIdentifier('mmm_history')).toBe('`mmm_history`');
    expect(() => sqlIdentifier('a`b')).toThrow(LiteralError);
    expect(() => sqlIdentifier('db; DROP')).toThrow(LiteralError);
    expect(() => sqlIdentifier('')).toThrow(LiteralError);
  });
});
