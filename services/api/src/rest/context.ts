import type { ApiConfig } from '../config.js';
import type { History } from '../history/types.js';
import type { Db } from '../store/db.js';

/** What read routes need: the projection and the config; status callbacks for /api/health. */
export interface RestContext {
  db: Db;
  cfg: ApiConfig;
  /** Packets, tracks and series: ingest's store when configured, else the projection's recent receptions. */
  history: History;
  health: () => { nats: boolean; store: boolean; consumerLag: number };
}
