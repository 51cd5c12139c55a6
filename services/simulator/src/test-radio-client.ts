import { connect, type Socket } from 'node:net';
import { create, Deframer, encodeFrame, fromBinary, Mesh, toBinary } from '@mmm/meshtastic';
import { waitFor } from '@mmm/testkit';

type ToRadioVariant = Mesh.ToRadio['payloadVariant'];

/**
 * A minimal radio client for tests: frames ToRadio out, deframes FromRadio in (with the strict deframer), and keeps
 * everything it received, including each frame's raw payload bytes.
 */
export class RadioClient {
  readonly frames: Mesh.FromRadio[] = [];
  readonly payloads: Uint8Array[] = [];
  /** Text between frames (a serial console's debug log). */
  readonly debug: string[] = [];
  private readonly deframer = new Deframer();

  constructor(private readonly write: (bytes: Uint8Array) => void) {}

  static async tcp(port: number, host = '127.0.0.1'): Promise<RadioClient & { socket: Socket; close(): void }> {
    const socket = connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RadioClient((b) => socket.write(b)) as RadioClient & { socket: Socket; close(): void };
    socket.on('data', (chunk) => client.feed(chunk));
    client.socket = socket;
    client.close = () => socket.destroy();
    return client;
  }

  feed(chunk: Uint8Array): void {
    for (const f of this.deframer.push(chunk)) {
      if (f.type !== 'packet') {
        this.debug.push(f.text);
        continue;
      }
      this.payloads.push(f.payload);
      this.frames.push(fromBinary(Mesh.FromRadioSchema, f.payload));
    }
  }

  send(variant: ToRadioVariant): void {
    this.write(encodeFrame(toBinary(Mesh.ToRadioSchema, create(Mesh.ToRadioSchema, { payloadVariant: variant }))));
  }

  /** Sends want_config_id and resolves with the frames up to and including config_complete_id. */
  async wantConfig(nonce: number, timeoutMs = 10_000): Promise<Mesh.FromRadio[]> {
    const start = this.frames.length;
    this.send({ case: 'wantConfigId', value: nonce });
    const end = await waitFor(
      'config_complete_id',
      () => {
        const i = this.frames.findIndex((f, idx) => idx >= start && f.payloadVariant.case === 'configCompleteId');
        return i >= 0 ? i : undefined;
      },
      timeoutMs,
      20,
    );
    return this.frames.slice(start, end + 1);
  }

  packets(): Mesh.MeshPacket[] {
    return this.frames.flatMap((f) => (f.payloadVariant.case === 'packet' ? [f.payloadVariant.value] : []));
  }

  waitForPackets(
    what: string,
    pred: (pkts: Mesh.MeshPacket[]) => boolean,
    timeoutMs = 15_000,
  ): Promise<Mesh.MeshPacket[]> {
    return waitFor(
      what,
      () => {
        const p = this.packets();
        return pred(p) ? p : undefined;
      },
      timeoutMs,
      20,
    );
  }
}
