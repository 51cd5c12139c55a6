import type { ApiConfig } from '../config.js';
import type { Db } from '../store/db.js';
import { ClickHouseHistory } from './clickhouse.js';
import { ProjectionHistory } from './projection.js';
import { SqliteHistory } from './sqlite.js';
import type { History } from './types.js';

/**
 * ClickHouse when `[clickhouse] url` is set; else ingest's SQLite file once it exists; else the projection's own
 * receptions. The SQLite choice is made per query, so the API may start before ingest.
 */
export function selectHistory(cfg: ApiConfig, db: Db): History {
  if (cfg.clickhouse.url) {
    return new ClickHouseHistory({
      url: cfg.clickhouse.url,
      database: cfg.clickhouse.database,
      user: cfg.clickhouse.user,
      password: cfg.clickhouse.password,
    });
  }
  const own = new ProjectionHistory(db);
  const sqlite = new SqliteHistory(cfg.history.sqlite_path);
  const pick = (): History => (sqlite.available() ? sqlite : own);
  return {
    get kind() {
      return pick().kind;
    },
    receptions: (q) => pick().receptions(q),
    receptionsOf: (f, id) => pick().receptionsOf(f, id),
    scanReceptions: (q) => pick().scanReceptions(q),
    positions: (n, s, l) => pick().positions(n, s, l),
    telemetry: (n, v, f, s, l) => pick().telemetry(n, v, f, s, l),
    close: () => sqlite.close(),
  };
}
