export { NONCE_ONLY_CONFIG, NONCE_ONLY_NODES } from './config-exchange.js';
export { HOSTILE_NAME, HOSTILE_TEXT, HOSTILE_WAYPOINT } from './names.js';
export type { PtyBridge } from './pty.js';
export { PtyError } from './pty.js';
export type { PrivateChannel } from './radio.js';
export { PRIMARY_HASH } from './radio.js';
export { type Capture, CaptureError, loadCapture, openPacket } from './replay.js';
export {
  DEFAULTS,
  packetKey,
  type ReceivedText,
  type SentPacket,
  type SentStats,
  type Simulator,
  SimulatorListenError,
  type SimulatorOptions,
  SimulatorOptionsError,
  startSimulator,
} from './simulator.js';
export { snrX4, TRACEROUTE_RATE_LIMIT_MS } from './traceroute.js';
export { PORT_WEIGHTS, TRAFFIC_KINDS, type TrafficKind } from './traffic.js';
export type { SimLink, SimNode } from './world.js';
