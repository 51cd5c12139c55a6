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
export {
  type HubAndLeaves,
  leafConnections,
  type NatsServer,
  type NatsServerOptions,
  startHubAndLeaves,
  startNatsServer,
} from './nats-server.js';
export { type ClickHouseServer, startClickHouse } from './clickhouse-server.js';
export { fixturePath, FIXTURES_DIR } from './fixtures.js';
