import { channelHash, create, DEFAULT_KEY, Mesh, toBinary, xcrypt } from '@mmm/meshtastic';
import type { Prng } from './prng.js';
import type { Outgoing } from './traffic.js';
import type { World } from './world.js';

/** The primary channel: LongFast with the default key (PSK AQ==); its hash is what encrypted packets carry. */
export const PRIMARY_CHANNEL_NAME = 'LongFast';
export const PRIMARY_HASH = channelHash(PRIMARY_CHANNEL_NAME, DEFAULT_KEY);

export interface PrivateChannel {
  readonly index: number;
  readonly name: string;
  readonly key: Uint8Array;
  readonly hash: number;
}

/** Share of primary-channel traffic that reaches clients still encrypted (as over MQTT/UDP); the rest is decoded. */
export const ENCRYPTED_SHARE = 0.75;
/** Lower bits of a packet id that count up per sender; the rest is random (the firmware does the same). */
const ID_COUNTER_MASK = 0x3ff;

/**
 * Turns application payloads into MeshPackets as the gateway radio receives them: a per-sender packet id, the
 * reception fields of the last hop on the sender's path (rxSnr, rxRssi, relayNode) and hop counts, encrypted with the
 * channel key or left decoded.
 */
export class Radio {
  private readonly counters = new Map<number, number>();

  constructor(
    private readonly world: World,
    private readonly rng: Prng,
    private readonly clock: () => number,
    readonly privateChannel: PrivateChannel,
  ) {}

  nextId(from: number): number {
    const c = ((this.counters.get(from) ?? this.rng.u32()) + 1) & ID_COUNTER_MASK;
    this.counters.set(from, c);
    const id = ((this.rng.u32() & ~ID_COUNTER_MASK) | c) >>> 0;
    return id === 0 ? 1 : id;
  }

  packet(out: Outgoing, id = this.nextId(out.from)): Mesh.MeshPacket {
    const gw = this.world.gateway.num;
    const data = create(Mesh.DataSchema, {
      portnum: out.portnum,
      payload: out.payload,
      wantResponse: out.wantResponse ?? false,
      requestId: out.requestId ?? 0,
    });
    const pkt = create(Mesh.MeshPacketSchema, {
      from: out.from,
      to: out.to,
      id,
      rxTime: Math.floor(this.clock() / 1000),
    });
    if (out.from !== gw) {
      const path = this.world.pathToGateway(out.from);
      const sender = this.world.byNum.get(out.from)!;
      const last = this.world.link(path[path.length - 2]!, gw)!;
      const relays = path.length - 2;
      // Per-packet fading around the link's mean, still on the 0.25 dB grid.
      pkt.rxSnr = Math.round((last.snr + this.rng.range(-1, 1)) * 4) / 4;
      pkt.rxRssi = Math.round(last.rssi + this.rng.range(-2, 2));
      pkt.hopStart = sender.hopLimit;
      pkt.hopLimit = Math.max(0, sender.hopLimit - relays);
      pkt.relayNode = path[path.length - 2]! & 0xff;
    }
    const encrypt =
      out.channel === 'private' || (out.from !== gw && !out.forceDecoded && this.rng.chance(ENCRYPTED_SHARE));
    if (encrypt) {
      const key = out.channel === 'private' ? this.privateChannel.key : DEFAULT_KEY;
      pkt.channel = out.channel === 'private' ? this.privateChannel.hash : PRIMARY_HASH;
      pkt.payloadVariant = { case: 'encrypted', value: xcrypt(key, id, out.from, toBinary(Mesh.DataSchema, data)) };
    } else {
      pkt.channel = 0; // decoded packets carry the channel index
      pkt.payloadVariant = { case: 'decoded', value: data };
    }
    return pkt;
  }
}
