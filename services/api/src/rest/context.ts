import type { ApiConfig } from '../config.js';
import type { Db } from '../store/db.js';

/** What read routes need: the projection and the config; status callbacks for /api/health. */
export interface RestContext {
  db: Db;
  cfg: ApiConfig;
  health: () => { nats: boolean; store: boolean; consumerLag: number };
}
