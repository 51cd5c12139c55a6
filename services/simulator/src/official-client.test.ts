// The reference JavaScript client (@meshtastic/core, as the Meshtastic web app uses it) against the simulator: it must
// configure, see the node DB and live packets, and get a traceroute answered, as with a real radio. Its own TCP
// transport desyncs on payloads holding 0x94 0xC3 (which this mesh always sends), so the test plugs in a transport
// with the strict deframer, as a real deployment of that client would have to.
import { connect, type Socket } from 'node:net';
import { MeshDevice, Types } from '@meshtastic/core';
import { Deframer, encodeFrame } from '@mmm/meshtastic';
import { waitFor } from '@mmm/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from './simulator.js';

class StrictTcpTransport implements Types.Transport {
  readonly toDevice: WritableStream<Uint8Array>;
  readonly fromDevice: ReadableStream<Types.DeviceOutput>;

  constructor(private readonly socket: Socket) {
    const deframer = new Deframer();
    this.fromDevice = new ReadableStream<Types.DeviceOutput>({
      start(ctl) {
        ctl.enqueue({ type: 'status', data: { status: Types.DeviceStatusEnum.DeviceConnected } });
        socket.on('data', (chunk) => {
          for (const f of deframer.push(chunk))
            ctl.enqueue(f.type === 'packet' ? { type: 'packet', data: f.payload } : { type: 'debug', data: f.text });
        });
        socket.on('close', () => {
          try {
            ctl.close();
          } catch {
            // already closed
          }
        });
      },
    });
    this.toDevice = new WritableStream<Uint8Array>({
      write: (bytes) => new Promise<void>((resolve) => socket.write(encodeFrame(bytes), () => resolve())),
    });
  }

  async disconnect(): Promise<void> {
    this.socket.destroy();
  }
}

let sim: Simulator | undefined;
let socket: Socket | undefined;

afterEach(async () => {
  socket?.destroy();
  await sim?.stop();
});

describe('@meshtastic/core against the simulator', () => {
  it('configures, receives the node DB and live packets, and gets a traceroute answered', async () => {
    sim = await startSimulator({ port: 0, nodes: 12, seed: 3, rate: 50, traceDelayMs: [50, 100], traceRateLimitMs: 0 });
    socket = connect({ port: sim.port, host: sim.host });
    await new Promise<void>((resolve) => socket!.once('connect', () => resolve()));
    const dev = new MeshDevice(new StrictTcpTransport(socket));
    dev.log.settings.minLevel = 6; // fatal only: live routing errors are expected traffic
    const nodeInfos: number[] = [];
    const packets: number[] = [];
    const traces: { from: number; route: number[] }[] = [];
    let configured = false;
    dev.events.onDeviceStatus.subscribe((s: Types.DeviceStatusEnum) => {
      if (s === Types.DeviceStatusEnum.DeviceConfigured) configured = true;
    });
    dev.events.onNodeInfoPacket.subscribe((n: { num: number }) => nodeInfos.push(n.num));
    dev.events.onMeshPacket.subscribe((p: { id: number }) => packets.push(p.id));
    dev.events.onTraceRoutePacket.subscribe((t: { from: number; data: { route: number[] } }) =>
      traces.push({ from: t.from, route: [...t.data.route] }),
    );
    dev.configure().catch(() => undefined); // resolves only after its queue timeout; the status says when it is done
    await waitFor('DeviceConfigured', () => configured, 15_000);
    expect(new Set(nodeInfos)).toEqual(new Set(sim.nodes.map((n) => n.num)));
    await waitFor('live packets', () => packets.length >= 30, 15_000);

    const far = sim.nodes.reduce((a, b) => (b.hopsAway > a.hopsAway ? b : a));
    await dev.traceRoute(far.num); // resolves on the routing ACK
    const trace = await waitFor('the traceroute reply', () => traces.find((t) => t.from === far.num), 10_000);
    expect(trace.route).toEqual(sim.expectedTraceroute(far.num).route);
    dev.complete();
  });
});
