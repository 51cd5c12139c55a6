import type { Logger } from '@mmm/common';
import type { Mesh } from '@mmm/meshtastic';
import type { Port } from '@mmm/schemas';
import type { PtyBridge } from './pty.js';
import type { PrivateChannel } from './radio.js';
import type { Capture } from './replay.js';
import type { TrafficKind } from './traffic.js';
import type { SimLink, SimNode } from './world.js';

export interface SimulatorOptions {
  /** Nodes in the mesh, the gateway included (2..2000). Default 20. */
  nodes?: number;
  /** Live packets per second, all ports together. 0 = quiet (only replies). Default 2. */
  rate?: number;
  /** Same seed, same mesh and same packet sequence. Default 1. */
  seed?: number;
  /** TCP port; 0 = a free port. Default 0 (the CLI defaults to 4403, the radio's port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Replay this capture instead of generating traffic. */
  replay?: string;
  /** Start the capture again when it ends. */
  loop?: boolean;
  /** A traceroute reply arrives this many ms after the request (uniform in the range). Default [2000, 8000]. */
  traceDelayMs?: readonly [number, number];
  /** One traceroute per this many ms; faster requests are dropped as the firmware does. Default 30000. */
  traceRateLimitMs?: number;
  /** Give one node the name `<img src=x onerror=alert(1)>`. */
  hostileNames?: boolean;
  /**
   * Interleave firmware-style debug log lines between frames, as a serial console with debug logging does. Some carry
   * node names whose UTF-8 holds 0x94 (and "—é" even 0x94 0xC3), which a deframer must skip as text.
   */
  debugLog?: boolean;
  /** Keep `sent.ids` (default true). Long-running processes turn it off so memory stays flat. */
  trackIds?: boolean;
  /** Centre of the mesh [lat, lon]; default Berlin. */
  center?: readonly [number, number];
  /** Wall clock in ms for timestamps (rxTime, position time…); inject a fixed one for byte-identical runs. */
  clock?: () => number;
  log?: Logger;
}

/** A MeshPacket the simulator delivered to its clients. */
export interface SentPacket {
  readonly from: number;
  readonly to: number;
  readonly id: number;
  /** The contract's port name as an agent that knows only the default key would classify it. */
  readonly port: Port;
  readonly portnum: number | undefined;
  readonly encrypted: boolean;
  readonly packet: Mesh.MeshPacket;
}

/** A text message a client handed to the radio to send (TEXT_MESSAGE_APP), as the radio took it. */
export interface ReceivedText {
  readonly to: number;
  readonly channel: number;
  readonly id: number;
  readonly text: string;
  readonly packet: Mesh.MeshPacket;
}

export interface SentStats {
  /** Distinct MeshPackets delivered to at least one client (live traffic, ACKs, traceroute replies, replay). */
  count: number;
  byPort: Partial<Record<Port, number>>;
  /** `packetKey(from, id)` of each of them (empty with `trackIds: false`). */
  ids: Set<string>;
}

export interface Simulator {
  readonly port: number;
  readonly host: string;
  readonly nodes: readonly SimNode[];
  readonly myNodeNum: number;
  readonly privateChannel: PrivateChannel;
  readonly sent: SentStats;
  /** What --replay loaded (undefined when generating). */
  readonly capture: Capture | undefined;
  /** The true topology: directed links with SNR (dB) and RSSI. */
  links(): SimLink[];
  /** [node, relay…, gateway]: the path a packet from `node` takes to the gateway. */
  pathToGateway(node: number): number[];
  /** The RouteDiscovery a traceroute to `node` is answered with. */
  expectedTraceroute(node: number): Mesh.RouteDiscovery;
  setRate(packetsPerSecond: number): void;
  pause(): void;
  resume(): void;
  /** Moves a node and broadcasts its new position at once. */
  movePosition(node: number | SimNode, lat: number, lon: number): void;
  /** Sets a node's battery level (0-101, 101 = external power) and sends its device telemetry at once. */
  setBattery(node: number | SimNode, level: number): SentPacket | undefined;
  /** Silences a node (nothing it sends reaches the gateway, replies included) or brings it back. */
  setSilent(node: number | SimNode, silent: boolean): void;
  /** Takes the link between two nodes away until `restoreLink` (refused when it would cut a node off). */
  dropLink(a: number | SimNode, b: number | SimNode): void;
  restoreLink(a: number | SimNode, b: number | SimNode): void;
  /** Closes every client connection and refuses new ones until `plugIn()` (a radio rebooting or unplugged). */
  unplug(): void;
  plugIn(): void;
  /** Renames a node and broadcasts its NODEINFO at once. */
  renameNode(node: number | SimNode, longName: string, shortName: string): void;
  /** Sends one live packet of a kind now (for tests that need a particular port). */
  inject(kind: TrafficKind): SentPacket | undefined;
  onSent(listener: (p: SentPacket) => void): () => void;
  /** Text messages clients handed to the radio, oldest first: what reached the radio from an agent. */
  readonly received: readonly ReceivedText[];
  onReceived(listener: (t: ReceivedText) => void): () => void;
  /** Open client connections. */
  connections(): number;
  /** Exposes the radio as a serial device: a PTY made by socat, bridged to the TCP port. */
  startPty(path?: string): Promise<PtyBridge>;
  stop(): Promise<void>;
}

export const DEFAULTS = { nodes: 20, rate: 2, seed: 1, port: 0, host: '127.0.0.1' } as const;
export class SimulatorOptionsError extends RangeError {
  override readonly name = 'SimulatorOptionsError';
}

export function packetKey(from: number, id: number): string {
  return `${(from >>> 0).toString(16)}:${(id >>> 0).toString(16)}`;
}

export function validateOptions(opts: SimulatorOptions): void {
  const bad = (msg: string) => {
    throw new SimulatorOptionsError(msg);
  };
  if (opts.rate !== undefined && !(Number.isFinite(opts.rate) && opts.rate >= 0))
    bad(`rate must be a number >= 0, got ${opts.rate}`);
  if (opts.seed !== undefined && !Number.isInteger(opts.seed)) bad(`seed must be a whole number, got ${opts.seed}`);
  if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port >= 0 && opts.port <= 65535))
    bad(`port must be 0..65535, got ${opts.port}`);
  const d = opts.traceDelayMs;
  if (d && !(d.length === 2 && d[0] >= 0 && d[1] >= d[0]))
    bad(`traceDelayMs must be [min, max] with 0 <= min <= max, got ${JSON.stringify(d)}`);
  if (opts.traceRateLimitMs !== undefined && !(opts.traceRateLimitMs >= 0))
    bad(`traceRateLimitMs must be >= 0, got ${opts.traceRateLimitMs}`);
}
