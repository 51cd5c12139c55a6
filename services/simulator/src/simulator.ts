import { createServer, type Server, type Socket } from 'node:net';
import { channelHash, create, Mesh, Portnums } from '@mmm/meshtastic';
import { type Port, portFromPortnum } from '@mmm/schemas';
import {
  DEFAULTS,
  packetKey,
  type ReceivedText,
  type SentPacket,
  type SentStats,
  type Simulator,
  type SimulatorOptions,
  SimulatorOptionsError,
  validateOptions,
} from './api.js';
import { configSequence } from './config-exchange.js';
import { Connection } from './connection.js';
import { debugLine } from './debug-log.js';
import { Prng } from './prng.js';
import { type PtyBridge, startPtyBridge } from './pty.js';
import { PRIMARY_HASH, type PrivateChannel, Radio } from './radio.js';
import { type Capture, captureNodes, loadCapture, openPacket } from './replay.js';
import { ClientRequests } from './requests.js';
import { DEFAULT_TRACE_DELAY_MS, routeDiscovery, TRACEROUTE_RATE_LIMIT_MS, TraceRateLimiter } from './traceroute.js';
import { type Outgoing, PORT_WEIGHTS, TrafficGenerator, type TrafficKind } from './traffic.js';
import { type SimLink, type SimNode, World } from './world.js';

export {
  DEFAULTS,
  packetKey,
  type ReceivedText,
  type SentPacket,
  type SentStats,
  type Simulator,
  type SimulatorOptions,
  SimulatorOptionsError,
} from './api.js';

export class SimulatorListenError extends Error {
  override readonly name = 'SimulatorListenError';
}

const TICK_MS = 50;
/** Work per turn before yielding to the event loop (client I/O, timers). */
const TICK_WORK_MS = 10;

type Classified = { port: Port; portnum: number | undefined };

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  validateOptions(opts);
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
  private readonly requests: ClientRequests;
  private readonly clock: () => number;
  private readonly conns = new Set<Connection>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly listeners = new Set<(p: SentPacket) => void>();
  private readonly textListeners = new Set<(t: ReceivedText) => void>();
  readonly received: ReceivedText[] = [];
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
  private readonly silenced = new Set<number>();
  private unplugged = false;
  private readonly dropped = new Map<string, SimLink[]>();

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
    this.traffic = new TrafficGenerator(this.world, rng.fork(3), this.clock, opts.hostileNames);
    this.pick = rng.fork(4);
    this.requests = new ClientRequests({
      world: this.world,
      radio: this.radio,
      limiter: new TraceRateLimiter(opts.traceRateLimitMs ?? TRACEROUTE_RATE_LIMIT_MS),
      rng: rng.fork(5),
      traceDelayMs: opts.traceDelayMs ?? DEFAULT_TRACE_DELAY_MS,
      clock: this.clock,
      emit: (out, to) => this.emit(out, to),
      later: (ms, fn) => this.later(ms, fn),
      log: opts.log,
    });
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
      this.server.once('error', (err: NodeJS.ErrnoException) => {
        const where = `${this.host}:${this.opts.port ?? DEFAULTS.port}`;
        const why =
          err.code === 'EADDRINUSE'
            ? `${where} is already in use (another radio or simulator?); choose another port`
            : `cannot listen on ${where}`;
        reject(new SimulatorListenError(why, { cause: err }));
      });
      this.server.listen(this.opts.port ?? DEFAULTS.port, this.host, () => {
        this.server.removeAllListeners('error');
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
    if (this.stopped || this.unplugged) {
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
        this.requests.handle(conn, v.value);
        this.noteText(v.value);
        break;
      case 'disconnect':
        conn.close();
        break;
      default:
        break; // heartbeats only keep the link up
    }
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
    // A silenced node is switched off or out of range: the gateway hears nothing from it, replies included.
    if (this.silenced.has(pkt.from)) return undefined;
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

  /**
   * Sets a node's battery level (0-100, 101 = on external power) and sends its device telemetry now, as a node that
   * drains or charges would: what the alerts tests use to fire and resolve a battery rule.
   */
  setBattery(node: number | SimNode, level: number): SentPacket | undefined {
    if (!(Number.isInteger(level) && level >= 0 && level <= 101))
      throw new SimulatorOptionsError(`battery level ${level} is not 0-101`);
    const n = this.node(node);
    n.batteryLevel = level;
    return this.emit(this.traffic.telemetry('deviceMetrics', n));
  }

  /**
   * Silences a node (switched off, out of range) or brings it back: while silent, nothing it sends reaches the
   * gateway, its random traffic and its replies alike. What the alerts tests use to fire and resolve "node silent".
   */
  setSilent(node: number | SimNode, silent: boolean): void {
    const n = this.node(node);
    if (n.num === this.myNodeNum) throw new SimulatorOptionsError('the gateway cannot be silenced: it is the radio');
    if (silent) this.silenced.add(n.num);
    else this.silenced.delete(n.num);
  }

  /**
   * Takes the radio link between two nodes away (both directions) until `restoreLink`: neighbour reports and
   * traceroutes follow the new routes. Refused when a node would be cut off from the gateway.
   */
  dropLink(a: number | SimNode, b: number | SimNode): void {
    const [x, y] = [this.node(a), this.node(b)];
    try {
      this.dropped.set(linkPair(x.num, y.num), this.world.dropLink(x.num, y.num));
    } catch (err) {
      throw new SimulatorOptionsError((err as Error).message, { cause: err });
    }
  }

  restoreLink(a: number | SimNode, b: number | SimNode): void {
    const key = linkPair(this.node(a).num, this.node(b).num);
    const links = this.dropped.get(key);
    if (!links) throw new SimulatorOptionsError('that link was not dropped');
    this.dropped.delete(key);
    this.world.restoreLink(...links);
  }

  /**
   * Unplugs the radio: every client connection is closed and new ones are closed at once, until `plugIn()`. What a
   * radio that reboots or loses its cable looks like to an agent (the alerts tests fire "radio disconnected" with it).
   */
  unplug(): void {
    this.unplugged = true;
    for (const c of this.conns) c.close();
  }

  plugIn(): void {
    this.unplugged = false;
  }

  inject(kind: TrafficKind): SentPacket | undefined {
    return this.emit(this.traffic.make(kind));
  }

  onReceived(listener: (t: ReceivedText) => void): () => void {
    this.textListeners.add(listener);
    return () => this.textListeners.delete(listener);
  }

  /** Keeps what a client asked the radio to say, so tests can see what an agent sent to the mesh. */
  private noteText(pkt: Mesh.MeshPacket): void {
    const v = pkt.payloadVariant;
    if (v.case !== 'decoded' || v.value.portnum !== Portnums.PortNum.TEXT_MESSAGE_APP) return;
    const t: ReceivedText = {
      to: pkt.to,
      channel: pkt.channel,
      id: pkt.id,
      text: new TextDecoder().decode(v.value.payload),
      packet: pkt,
    };
    this.received.push(t);
    for (const l of this.textListeners) l(t);
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

/** One key for the pair whichever way round it is named. */
function linkPair(a: number, b: number): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}
