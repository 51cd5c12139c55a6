import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@mmm/common';
import { DDL_DIR, ddlStatements } from '@mmm/schemas/ddl';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../testing/nats.js';
import { REPLICATED_HEADER, ReplicatedDdlError, replicatedDdl, withDatabase } from './replicated-ddl.js';
import { ClickHouseStore } from './store.js';

const sqlFiles = (dir: string) =>
  readdirSync(join(DDL_DIR, dir))
    .filter((f) => f.endsWith('.sql'))
    .sort();

describe('replicated DDL', () => {
  it('is the single-server DDL with Replicated engines, file by file', () => {
    const files = sqlFiles('clickhouse');
    expect(sqlFiles('clickhouse-replicated')).toEqual(files);
    for (const f of files) {
      const single = readFileSync(join(DDL_DIR, 'clickhouse', f), 'utf8');
      const replicated = readFileSync(join(DDL_DIR, 'clickhouse-replicated', f), 'utf8');
      expect(
        replicated,
        `schemas/ddl/clickhouse-replicated/${f} is out of step: write replicatedDdl(../clickhouse/${f})`,
      ).toBe(replicatedDdl(single));
    }
  });

  it('replicates every table and leaves views and columns alone', () => {
    const single = ddlStatements('clickhouse');
    const replicated = ddlStatements('clickhouse-replicated');
    expect(replicated).toHaveLength(single.length);
    replicated.forEach((stmt, i) => {
      const table = /^CREATE TABLE IF NOT EXISTS (\w+)/.exec(stmt)?.[1];
      if (!table) {
        expect(stmt).toBe(single[i]);
        return;
      }
      expect(stmt).toMatch(
        new RegExp(
          `ENGINE = Replicated\\w*MergeTree\\('/clickhouse/tables/\\{shard\\}/\\{database\\}/${table}', '\\{replica\\}'`,
        ),
      );
      // Apart from the engine line, the statement is the single-server one.
      const strip = (s: string) => s.replace(/ENGINE = .*\n/, '');
      expect(strip(stmt)).toBe(strip(single[i]!));
    });
  });

  it('keeps engine arguments after the path and replica name', () => {
    const sql = `CREATE TABLE IF NOT EXISTS t (\n  a UInt8\n) ENGINE = SummingMergeTree((a))\nORDER BY a;\n`;
    expect(replicatedDdl(sql)).toBe(
      `${REPLICATED_HEADER}CREATE TABLE IF NOT EXISTS t (\n  a UInt8\n) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/t', '{replica}', (a))\nORDER BY a;\n`,
    );
    expect(() => replicatedDdl('CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = Log;\n')).toThrow(ReplicatedDdlError);
  });

  it('fills in the database for servers that do not expand {database}', () => {
    expect(withDatabase("ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/t', '{replica}')", 'hist')).toBe(
      "ReplicatedMergeTree('/clickhouse/tables/{shard}/hist/t', '{replica}')",
    );
  });
});

describe('ClickHouse layout in the ingest config', () => {
  it('defaults to single and accepts replicated', () => {
    expect(testConfig('[clickhouse]\nurl = http://a:8123\n').clickhouse.layout).toBe('single');
    expect(testConfig('[clickhouse]\nurl = http://a:8123\nlayout = replicated\n').clickhouse.layout).toBe('replicated');
    expect(() => testConfig('[clickhouse]\nurl = http://a:8123\nlayout = sharded\n')).toThrow(ConfigError);
  });

  it('refuses several URLs unless the layout is replicated', async () => {
    expect(() => new ClickHouseStore({ url: 'http://a:8123, http://b:8123', database: 'h' })).toThrow(
      /several URLs need layout = replicated/,
    );
    expect(() => new ClickHouseStore({ url: ' , ', database: 'h', layout: 'replicated' })).toThrow(ConfigError);
    const store = new ClickHouseStore({ url: 'http://a:8123, http://b:8123', database: 'h', layout: 'replicated' });
    expect(store.currentUrl).toBe('http://a:8123');
    await store.close();
  });
});
