import { create, Mesh, Portnums } from '@mmm/meshtastic';
import { waitFor } from '@mmm/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReceivedText } from './api.js';
import { type Simulator, startSimulator } from './simulator.js';
import { RadioClient } from './test-radio-client.js';

let s: Simulator | undefined;
let c: (RadioClient & { close(): void }) | undefined;

afterEach(async () => {
  c?.close();
  await s?.stop();
});

function packet(portnum: Portnums.PortNum, payload: Uint8Array, to: number, channel: number): Mesh.MeshPacket {
  return create(Mesh.MeshPacketSchema, {
    to,
    channel,
    id: 77,
    payloadVariant: { case: 'decoded', value: create(Mesh.DataSchema, { portnum, payload }) },
  });
}

describe('text a client hands to the radio', () => {
  it('is recorded with its text, destination and channel; other ports are not', async () => {
    s = await startSimulator({ nodes: 5, rate: 0 });
    c = await RadioClient.tcp(s.port);
    await c.wantConfig(1);
    const heard: ReceivedText[] = [];
    s.onReceived((t) => heard.push(t));
    const text = 'battery low on ünïcode 😀';
    c.send({ case: 'packet', value: packet(Portnums.PortNum.POSITION_APP, new Uint8Array([1]), 0xffffffff, 0) });
    c.send({
      case: 'packet',
      value: packet(Portnums.PortNum.TEXT_MESSAGE_APP, new TextEncoder().encode(text), 0xabcd, 1),
    });
    await waitFor('the text', () => s!.received.length === 1, 5000);
    expect(s.received).toEqual(heard);
    expect(s.received[0]).toMatchObject({ to: 0xabcd, channel: 1, id: 77, text });
  });
});
