import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '@mmm/common';
import { channelHash, create, Mesh, Portnums, toBinary } from '@mmm/meshtastic';
import { type Port, portFromPortnum } from '@mmm/schemas';
import { configSequence } from './config-exchange.js';
import { Connection } from './connection.js';
import { Prng } from './prng.js';
import { type PtyBridge, startPtyBridge } from './pty.js';
import { PRIMARY_HASH, type PrivateChannel, Radio } from './radio.js';
import { type Capture, captureNodes, loadCapture, openPacket } from './replay.js';
import { DEFAULT_TRACE_DELAY_MS, routeDiscovery, TRACEROUTE_RATE_LIMIT_MS, TraceRateLimiter } from './traceroute.js';
import { type Outgoing, PORT_WEIGHTS, TrafficGenerator, type TrafficKind } from './traffic.js';
import { type SimLink, type SimNode, World } from './world.js';

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
  /** Renames a node and broadcasts its NODEINFO at once. */
  renameNode(node: number | SimNode, longName: string, shortName: string): void;
  /** Sends one live packet of a kind now (for tests that need a particular port). */
  inject(kind: TrafficKind): SentPacket | undefined;
  onSent(listener: (p: SentPacket) => void): () => void;
  /** Open client connections. */
  connections(): number;
  /** Exposes the radio as a serial device: a PTY made by socat, bridged to the TCP port. */
  startPty(path?: string): Promise<PtyBridge>;
  stop(): Promise<void>;
}

export const DEFAULTS = { nodes: 20, rate: 2, seed: 1, port: 0, host: '127.0.0.1' } as const;
const TICK_MS = 50;
/** Work per turn before yielding to the event loop (client I/O, timers). */
const TICK_WORK_MS = 10;

type Classified = { port: Port; portnum: number | undefined };
const BROADCAST = 0xffffffff;

export class SimulatorOptionsError extends RangeError {
  override readonly name = 'SimulatorOptionsError';
}

const utf8 = new TextEncoder();

/** A line as the firmware's serial console logs a received packet. */
function debugLine(pkt: Mesh.MeshPacket, name: string | undefined, nowMs: number): Uint8Array {
  const t = new Date(nowMs).toISOString().slice(11, 19);
  const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
  return utf8.encode(
    `DEBUG | ${t} [Router] Received from=${hex(pkt.from)} (${name ?? '?'}) id=${hex(pkt.id)} hopLim=${pkt.hopLimit} rxSNR=${pkt.rxSnr} rxRSSI=${pkt.rxRssi}\r\n`,
  );
}

export function packetKey(from: number, id: number): string {
  return `${(from >>> 0).toString(16)}:${(id >>> 0).toString(16)}`;
}

function check(opts: SimulatorOptions): void {
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

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  check(opts);
  const sim = new MeshSimulator(opts);
  await sim.listen();
  return sim;
}

class MeshSimulator implements Simulator {
  readonly host: string;
  port = 0;
  readonly sent: SentStats = { count: 0, byPort: {}, ids: new Set() };
  readonly capture: Capture | undefined;
  readonly privateChannel: PrivateChannel;

  private readonly world: World;
  private readonly radio: Radio;
  private readonly traffic: TrafficGenerator;
  private readonly pick: Prng;
  private readonly replyRng: Prng;
  private readonly clock: () => number;
  private readonly limiter: TraceRateLimiter;
  private readonly traceDelay: readonly [number, number];
  private readonly conns = new Set<Connection>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly listeners = new Set<(p: SentPacket) => void>();
  private readonly ptys = new Set<PtyBridge>();
  private readonly server: Server;
  private readonly replayNodes: Mesh.NodeInfo[] | undefined;
  private rate: number;
  private paused = false;
  private budget = 0;
  private lastTick = performance.now();
  private ticker: NodeJS.Timeout | undefined;
  private replayPos = 0;
  private replayPass = 0;
  private readonly replayClasses: Classified[] = [];
  private batch: Map<Connection, Uint8Array[]> | undefined;
  private continuing: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(private readonly opts: SimulatorOptions) {
    this.host = opts.host ?? DEFAULTS.host;
    this.rate = opts.rate ?? DEFAULTS.rate;
    this.clock = opts.clock ?? Date.now;
    const seed = opts.seed ?? DEFAULTS.seed;
    this.world = new World({
      nodes: opts.nodes ?? DEFAULTS.nodes,
      seed,
      hostileNames: opts.hostileNames,
      center: opts.center,
    });
    const rng = new Prng(seed ^ 0x51a17e);
    const keyRng = rng.fork(1);
    const key = keyRng.bytes(32);
    this.privateChannel = { index: 1, name: 'Ops', key, hash: channelHash('Ops', key) };
    this.radio = new Radio(this.world, rng.fork(2), this.clock, this.privateChannel);
    this.traffic = new TrafficGenerator(this.world, rng.fork(3), this.clock);
    this.traffic.startedAt = this.clock();
    this.pick = rng.fork(4);
    this.replyRng = rng.fork(5);
    this.limiter = new TraceRateLimiter(opts.traceRateLimitMs ?? TRACEROUTE_RATE_LIMIT_MS);
    this.traceDelay = opts.traceDelayMs ?? DEFAULT_TRACE_DELAY_MS;
    if (opts.replay) {
      this.capture = loadCapture(opts.replay);
      this.replayNodes = captureNodes(this.capture.packets);
    }
    this.server = createServer((socket) => this.accept(socket));
  }

  get nodes(): readonly SimNode[] {
    return this.world.nodes;
  }

  get myNodeNum(): number {
    return this.world.gateway.num;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? DEFAULTS.port, this.host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        this.port = typeof addr === 'object' && addr ? addr.port : 0;
        this.ticker = setInterval(() => this.tick(), TICK_MS);
        this.opts.log?.info(
          { host: this.host, port: this.port, nodes: this.world.nodes.length, myNodeNum: this.myNodeNum },
          'simulator listening',
        );
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    const conn = new Connection(socket, {
      onToRadio: (c, msg) => this.onToRadio(c, msg),
      onBadFrame: (c, err) => this.opts.log?.debug({ client: c.remote, err }, 'ignoring a frame that is not a ToRadio'),
      onClose: (c) => {
        this.conns.delete(c);
        this.opts.log?.info({ client: c.remote }, 'client disconnected');
      },
    });
    this.conns.add(conn);
    this.opts.log?.info({ client: conn.remote }, 'client connected');
  }

  private onToRadio(conn: Connection, msg: Mesh.ToRadio): void {
    const v = msg.payloadVariant;
    switch (v.case) {
      case 'wantConfigId': {
        const seq = configSequence(this.world, this.privateChannel, v.value, this.clock(), this.replayNodes);
        conn.write(Buffer.concat(seq.map((s) => conn.encode(s))));
        conn.live = true;
        break;
      }
      case 'packet':
        this.onClientPacket(conn, v.value);
        break;
      case 'disconnect':
        conn.close();
        break;
      default:
        break; // heartbeats only keep the link up
    }
  }

  /** A packet the client hands to the radio: traceroutes are answered, want_ack is acknowledged. */
  private onClientPacket(conn: Connection, pkt: Mesh.MeshPacket): void {
    const gw = this.myNodeNum;
    if (pkt.id === 0) pkt.id = this.radio.nextId(gw);
    const data = pkt.payloadVariant.case === 'decoded' ? pkt.payloadVariant.value : undefined;
    const target = this.world.byNum.get(pkt.to);
    if (data?.portnum === Portnums.PortNum.TRACEROUTE_APP && pkt.to !== BROADCAST && pkt.to !== gw) {
      if (!this.limiter.take(this.clock())) {
        // Firmware refuses it before it reaches the air: no ACK, no reply, only a note to the client.
        this.opts.log?.info({ to: pkt.to, id: pkt.id }, 'traceroute dropped by the rate limit');
        conn.send({
          case: 'clientNotification',
          value: create(Mesh.ClientNotificationSchema, {
            replyId: pkt.id,
            time: Math.floor(this.clock() / 1000),
            level: Mesh.LogRecord_Level.WARNING,
            message: 'TraceRoute can only be sent once every 30 seconds',
          }),
        });
        return;
      }
      if (!target) {
        if (pkt.wantAck)
          this.later(this.delay(), () => this.emit(this.routing(gw, pkt.id, Mesh.Routing_Error.MAX_RETRANSMIT), conn));
        return; // nobody answers for a node that is not in the mesh
      }
      const delay = this.delay();
      if (pkt.wantAck)
        this.later(delay / 2, () => this.emit(this.routing(target.num, pkt.id, Mesh.Routing_Error.NONE), conn));
      this.later(delay, () => {
        this.emit(
          {
            from: target.num,
            to: gw,
            portnum: Portnums.PortNum.TRACEROUTE_APP,
            payload: toBinary(Mesh.RouteDiscoverySchema, routeDiscovery(this.world, target.num)),
            channel: 'primary',
            requestId: pkt.id,
            forceDecoded: true,
          },
          conn,
        );
      });
      return;
    }
    if (!pkt.wantAck) return;
    if (pkt.to === gw) this.emit(this.routing(gw, pkt.id, Mesh.Routing_Error.NONE), conn);
    else if (pkt.to === BROADCAST)
      this.later(this.delay() / 4, () => this.emit(this.routing(gw, pkt.id, Mesh.Routing_Error.NONE), conn));
    else if (target)
      this.later(this.delay() / 2, () => this.emit(this.routing(target.num, pkt.id, Mesh.Routing_Error.NONE), conn));
    else this.later(this.delay(), () => this.emit(this.routing(gw, pkt.id, Mesh.Routing_Error.MAX_RETRANSMIT), conn));
  }

  private routing(from: number, requestId: number, error: Mesh.Routing_Error): Outgoing {
    const routing = create(Mesh.RoutingSchema, { variant: { case: 'errorReason', value: error } });
    return {
      from,
      to: this.myNodeNum,
      portnum: Portnums.PortNum.ROUTING_APP,
      payload: toBinary(Mesh.RoutingSchema, routing),
      channel: 'primary',
      requestId,
      forceDecoded: true,
    };
  }

  private delay(): number {
    return this.replyRng.range(this.traceDelay[0], this.traceDelay[1]);
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  /** Sends a packet to every live client (and `also`, the client it answers), and counts it once. */
  private deliver(pkt: Mesh.MeshPacket, also?: Connection, known?: Classified): SentPacket | undefined {
    const targets = [...this.conns].filter((c) => (c.live && !c.congested) || c === also);
    if (targets.length === 0) return undefined;
    const log = this.opts.debugLog ? debugLine(pkt, this.world.byNum.get(pkt.from)?.longName, this.clock()) : undefined;
    for (const c of targets) {
      const frame = c.encode({ case: 'packet', value: pkt });
      const bytes = log ? Buffer.concat([log, frame]) : frame;
      const queued = this.batch?.get(c);
      if (queued) queued.push(bytes);
      else if (this.batch) this.batch.set(c, [bytes]);
      else c.write(bytes);
    }
    return this.record(pkt, known ?? this.classify(pkt));
  }

  /** Generated traffic: the port is known, so nothing is decrypted again to count it. */
  private emit(out: Outgoing, also?: Connection): SentPacket | undefined {
    const known: Classified =
      out.channel === 'private'
        ? { port: 'encrypted', portnum: undefined }
        : { port: portFromPortnum(out.portnum), portnum: out.portnum };
    return this.deliver(this.radio.packet(out), also, known);
  }

  private classify(pkt: Mesh.MeshPacket): Classified {
    const isPrivate =
      pkt.payloadVariant.case === 'encrypted' &&
      pkt.channel === this.privateChannel.hash &&
      pkt.channel !== PRIMARY_HASH;
    const data = isPrivate ? undefined : openPacket(pkt);
    return data
      ? { port: portFromPortnum(data.portnum), portnum: data.portnum }
      : { port: 'encrypted', portnum: undefined };
  }

  private record(pkt: Mesh.MeshPacket, { port, portnum }: Classified): SentPacket {
    const sent: SentPacket = {
      from: pkt.from,
      to: pkt.to,
      id: pkt.id,
      port,
      portnum,
      encrypted: pkt.payloadVariant.case === 'encrypted',
      packet: pkt,
    };
    this.sent.count++;
    this.sent.byPort[port] = (this.sent.byPort[port] ?? 0) + 1;
    if (this.opts.trackIds !== false) this.sent.ids.add(packetKey(pkt.from, pkt.id));
    for (const l of this.listeners) l(sent);
    return sent;
  }

  private tick(): void {
    const now = performance.now();
    const elapsed = (now - this.lastTick) / 1000;
    this.lastTick = now;
    const live = [...this.conns].filter((c) => c.live);
    if (this.paused || live.length === 0 || this.rate === 0) {
      this.budget = 0; // a radio with nobody listening delivers nothing; nothing piles up either
      return;
    }
    // At most a second's worth of backlog, so a stalled client does not get a burst later.
    this.budget = Math.min(this.budget + this.rate * elapsed, Math.max(1, this.rate));
    this.batch = new Map();
    try {
      while (this.budget >= 1) {
        // A client that does not keep up (or a PTY nobody reads) is skipped, as a radio drops what its phone queue
        // cannot hold; when every client lags the mesh waits instead, so a lone slow consumer still gets every packet.
        if (live.every((c) => c.congested)) break;
        // Leave the event loop room for clients and timers, then carry on right after them.
        if (performance.now() - now > TICK_WORK_MS) {
          this.continueSoon();
          break;
        }
        const next = this.nextLivePacket();
        if (!next) break;
        this.budget -= 1;
        if ('out' in next) this.emit(next.out);
        else this.deliver(next.pkt, undefined, next.known);
      }
    } finally {
      const batch = this.batch;
      this.batch = undefined;
      for (const [c, frames] of batch) c.write(Buffer.concat(frames));
    }
  }

  private continueSoon(): void {
    if (this.continuing) return;
    this.continuing = setImmediate(() => {
      this.continuing = undefined;
      if (!this.stopped) this.tick();
    });
  }

  private nextLivePacket(): { out: Outgoing } | { pkt: Mesh.MeshPacket; known: Classified } | undefined {
    if (!this.capture) return { out: this.traffic.make(this.pick.weighted(PORT_WEIGHTS)) };
    const pkts = this.capture.packets;
    if (this.replayPos >= pkts.length) {
      if (!this.opts.loop) return undefined;
      this.replayPos = 0;
      this.replayPass++;
    }
    const i = this.replayPos++;
    const pkt = create(Mesh.MeshPacketSchema, pkts[i]!);
    // Later passes are new receptions of the same packets, so they get the time they are heard again.
    if (this.replayPass > 0) pkt.rxTime = Math.floor(this.clock() / 1000);
    this.replayClasses[i] ??= this.classify(pkt);
    return { pkt, known: this.replayClasses[i] };
  }

  links(): SimLink[] {
    return this.world.links();
  }

  pathToGateway(node: number): number[] {
    return this.world.pathToGateway(node);
  }

  expectedTraceroute(node: number): Mesh.RouteDiscovery {
    return routeDiscovery(this.world, node);
  }

  setRate(r: number): void {
    if (!(Number.isFinite(r) && r >= 0)) throw new SimulatorOptionsError(`rate must be a number >= 0, got ${r}`);
    this.rate = r;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.lastTick = performance.now();
  }

  private node(node: number | SimNode) {
    const num = typeof node === 'number' ? node : node.num;
    const n = this.world.byNum.get(num);
    if (!n) throw new SimulatorOptionsError(`node ${num} is not in the mesh`);
    return n;
  }

  movePosition(node: number | SimNode, lat: number, lon: number): void {
    if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180))
      throw new SimulatorOptionsError(`position ${lat},${lon} is not on Earth`);
    const n = this.node(node);
    n.lat = lat;
    n.lon = lon;
    const out = this.traffic.position({ ...n, mobile: false });
    this.emit(out);
  }

  renameNode(node: number | SimNode, longName: string, shortName: string): void {
    const n = this.node(node);
    n.longName = longName;
    n.shortName = shortName;
    this.emit(this.traffic.nodeinfo(n));
  }

  inject(kind: TrafficKind): SentPacket | undefined {
    return this.emit(this.traffic.make(kind));
  }

  onSent(listener: (p: SentPacket) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  connections(): number {
    return this.conns.size;
  }

  async startPty(path?: string): Promise<PtyBridge> {
    const pty = await startPtyBridge({ host: this.host, port: this.port, path, log: this.opts.log });
    this.ptys.add(pty);
    return {
      path: pty.path,
      stop: async () => {
        this.ptys.delete(pty);
        await pty.stop();
      },
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    if (this.continuing) clearImmediate(this.continuing);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.ptys].map((p) => p.stop()));
    this.ptys.clear();
    for (const c of this.conns) c.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.opts.log?.info('simulator stopped');
  }
}
