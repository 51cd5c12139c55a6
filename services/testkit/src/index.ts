export { type ClickHouseOptions, type ClickHouseServer, startClickHouse } from './clickhouse-server.js';
export { FIXTURES_DIR, fixturePath } from './fixtures.js';
export { type MosquittoOptions, type MosquittoServer, startMosquitto } from './mosquitto.js';
export { type HubCluster, type HubClusterOptions, type HubNode, startHubCluster } from './nats-cluster.js';
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
  freePortBlock,
  httpOk,
  MissingBinaryError,
  natsServerVersion,
  requireBinary,
  ServerProcess,
  supportsSyncAlways,
  waitFor,
} from './proc.js';
export { mulberry32 } from './random.js';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
export { fourLetter, startZooKeeper, type ZooKeeperServer } from './zookeeper.js';
