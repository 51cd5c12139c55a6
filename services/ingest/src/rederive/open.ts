import type { ScanSource } from '../scan.js';
import { ClickHouseRederiver } from './clickhouse.js';
import { SqliteRederiver } from './sqlite.js';
import type { Rederiver } from './store.js';

/** The store of a scan source, opened for `mmm rederive` to write. */
export function openRederiver(src: ScanSource): Rederiver {
  return src.kind === 'sqlite' ? new SqliteRederiver(src.path) : new ClickHouseRederiver(src);
}
