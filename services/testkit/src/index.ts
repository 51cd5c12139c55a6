export { type ClickHouseOptions, type ClickHouseServer, startClickHouse } from './clickhouse-server.js';
export { FIXTURES_DIR, fixturePath } from './fixtures.js';
export {
  type HubAndLeaves,
  leafConnections,
  type NatsServer,
  type NatsServerOptions,
  startHubAndLeaves,
  startNatsServer,
} from './nats-server.js';
export {
  freePort,
  httpOk,
  MissingBinaryError,
  natsServerVersion,
  requireBinary,
  ServerProcess,
  supportsSyncAlways,
  waitFor,
} from './proc.js';
export { mulberry32 } from './random.js';
export { fourLetter, startZooKeeper, type ZooKeeperServer } from './zookeeper.js';
