export { DDL_DIR, ddlStatements } from '@mmm/schemas/ddl';
export { LiteralError, sqlIdentifier, sqlList, sqlLiteral } from './clickhouse/literal.js';
export { type ClickHouseOptions, ClickHouseStore } from './clickhouse/store.js';
export { type IngestConfig, ingestConfigSpec } from './config.js';
export { TABLES, type TableName } from './plan/tables.js';
export { type ScanRange, type ScanSource, type StoredReception, scanReceptions } from './scan.js';
export { createStore, type RunningIngest, startIngest } from './service.js';
export { SqliteStore } from './sqlite/store.js';
export type { HistoryStore, RetentionPolicy, WriteResult } from './store.js';
