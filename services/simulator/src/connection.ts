import type { Socket } from 'node:net';
import { create, Deframer, encodeFrame, fromBinary, Mesh, toBinary } from '@mmm/meshtastic';

type Variant = Mesh.FromRadio['payloadVariant'];

/** Above this many unsent bytes the client is not keeping up; the live stream waits rather than dropping. */
export const BACKPRESSURE_BYTES = 4 * 1024 * 1024;

export interface ConnectionHandlers {
  onToRadio(conn: Connection, msg: Mesh.ToRadio): void;
  onBadFrame(conn: Connection, err: unknown): void;
  onClose(conn: Connection): void;
}

/** One client of the radio (TCP, or socat standing in for a serial port): framing both ways and its own state. */
export class Connection {
  /** Set once the client asked for the configuration; only then does the radio stream live packets to it. */
  live = false;
  private nextFromRadioId = 1;
  private readonly deframer = new Deframer();

  constructor(
    readonly socket: Socket,
    private readonly handlers: ConnectionHandlers,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => handlers.onClose(this));
  }

  get remote(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  get congested(): boolean {
    return this.socket.writableLength > BACKPRESSURE_BYTES;
  }

  private receive(chunk: Buffer): void {
    for (const frame of this.deframer.push(chunk)) {
      if (frame.type !== 'packet') continue; // stray bytes between frames, as a radio ignores them
      let msg: Mesh.ToRadio;
      try {
        msg = fromBinary(Mesh.ToRadioSchema, frame.payload);
      } catch (err) {
        this.handlers.onBadFrame(this, err);
        continue;
      }
      this.handlers.onToRadio(this, msg);
    }
  }

  send(variant: Variant): void {
    this.write(this.encode(variant));
  }

  encode(variant: Variant): Uint8Array {
    const msg = create(Mesh.FromRadioSchema, { id: this.nextFromRadioId++, payloadVariant: variant });
    return encodeFrame(toBinary(Mesh.FromRadioSchema, msg));
  }

  write(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }
}
