import { Deframer, fromBinary, Mesh, Portnums } from '@mmm/meshtastic';
import { describe, expect, it } from 'vitest';
import { heartbeatFrame, traceRouteFrame, wantConfigFrame } from './toradio.js';

function decode(frame: Uint8Array): Mesh.ToRadio {
  const [f] = new Deframer().push(frame);
  if (f?.type !== 'packet') throw new Error('not a frame');
  return fromBinary(Mesh.ToRadioSchema, f.payload);
}

describe('ToRadio frames', () => {
  it('encodes want_config_id and heartbeat', () => {
    expect(decode(wantConfigFrame(0xdeadbeef)).payloadVariant).toEqual({ case: 'wantConfigId', value: 0xdeadbeef });
    expect(decode(heartbeatFrame()).payloadVariant.case).toBe('heartbeat');
  });
  it('encodes a traceroute request with our id, hop limit and want_response', () => {
    const msg = decode(traceRouteFrame({ id: 0x1234, to: 0xbeef, hopLimit: 4 }));
    expect(msg.payloadVariant.case).toBe('packet');
    const p = msg.payloadVariant.value as Mesh.MeshPacket;
    expect([p.id, p.to, p.hopLimit, p.wantAck]).toEqual([0x1234, 0xbeef, 4, true]);
    expect(p.payloadVariant.case).toBe('decoded');
    const d = p.payloadVariant.value as Mesh.Data;
    expect(d.portnum).toBe(Portnums.PortNum.TRACEROUTE_APP);
    expect(d.wantResponse).toBe(true);
    expect(fromBinary(Mesh.RouteDiscoverySchema, d.payload).route).toEqual([]);
  });
});
