import { create, encodeFrame, Mesh, Portnums, toBinary } from '@mmm/meshtastic';

/** ToRadio frames the agent sends: config request, keep-alive, traceroute request, text message. */
export function wantConfigFrame(configId: number): Uint8Array {
  return frame(create(Mesh.ToRadioSchema, { payloadVariant: { case: 'wantConfigId', value: configId >>> 0 } }));
}

export function heartbeatFrame(): Uint8Array {
  return frame(
    create(Mesh.ToRadioSchema, { payloadVariant: { case: 'heartbeat', value: create(Mesh.HeartbeatSchema, {}) } }),
  );
}

/** A TRACEROUTE_APP request: an empty RouteDiscovery the relays append to; the reply carries requestId = id. */
export function traceRouteFrame(opts: { id: number; to: number; hopLimit: number; channel?: number }): Uint8Array {
  const discovery = toBinary(Mesh.RouteDiscoverySchema, create(Mesh.RouteDiscoverySchema, {}));
  const packet = create(Mesh.MeshPacketSchema, {
    id: opts.id >>> 0,
    to: opts.to >>> 0,
    channel: opts.channel ?? 0,
    hopLimit: opts.hopLimit,
    wantAck: true,
    payloadVariant: {
      case: 'decoded',
      value: create(Mesh.DataSchema, {
        portnum: Portnums.PortNum.TRACEROUTE_APP,
        payload: discovery,
        wantResponse: true,
      }),
    },
  });
  return frame(create(Mesh.ToRadioSchema, { payloadVariant: { case: 'packet', value: packet } }));
}

/** A TEXT_MESSAGE_APP packet, as the apps send a chat message (broadcast to 0xffffffff, or to one node). */
export function textFrame(opts: {
  id: number;
  to: number;
  channel: number;
  text: string;
  hopLimit?: number;
}): Uint8Array {
  const packet = create(Mesh.MeshPacketSchema, {
    id: opts.id >>> 0,
    to: opts.to >>> 0,
    channel: opts.channel,
    hopLimit: opts.hopLimit ?? 3,
    // A direct message asks for the mesh's ACK, as the apps do; a broadcast has nobody to ack it.
    wantAck: opts.to >>> 0 !== 0xffffffff,
    payloadVariant: {
      case: 'decoded',
      value: create(Mesh.DataSchema, {
        portnum: Portnums.PortNum.TEXT_MESSAGE_APP,
        payload: new TextEncoder().encode(opts.text),
      }),
    },
  });
  return frame(create(Mesh.ToRadioSchema, { payloadVariant: { case: 'packet', value: packet } }));
}

function frame(msg: Mesh.ToRadio): Uint8Array {
  return encodeFrame(toBinary(Mesh.ToRadioSchema, msg));
}

/** Random non-zero 32-bit id, as the apps use for packet ids and config ids. */
export function randomId(): number {
  const a = new Uint32Array(1);
  do crypto.getRandomValues(a);
  while (a[0] === 0);
  return a[0]!;
}
