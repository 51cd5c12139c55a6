import { type Static, Type } from '@sinclair/typebox';
import { PORTS, type Port } from '../subjects.js';
import { Agent, Base64, Closed, EpochMs, Int, NodeNum, Open, Site, Uint32, Version } from './common.js';
import { PayloadByPort, type PayloadOf } from './payloads.js';

/** MeshPacket header fields, wire names. rxSnr/rxRssi describe the last hop only. */
export const PacketHeader = Open(
  {
    from: NodeNum,
    to: NodeNum,
    id: Uint32,
    channel: Uint32,
    rxTime: Uint32,
    rxSnr: Type.Number(),
    rxRssi: Int,
    hopStart: Uint32,
    hopLimit: Uint32,
    relayNode: Uint32,
    nextHop: Uint32,
    wantAck: Type.Boolean(),
    viaMqtt: Type.Boolean(),
    priority: Int,
    pkiEncrypted: Type.Boolean(),
  },
  'meshtastic.MeshPacket header, every field always present (zero when the radio left it unset)',
);

/** meshtastic.Data minus its payload (which is decoded into `payload`). */
export const DataHeader = Open(
  {
    portnum: Int,
    wantResponse: Type.Boolean(),
    dest: Uint32,
    source: Uint32,
    requestId: Uint32,
    replyId: Uint32,
    emoji: Uint32,
    bitfield: Type.Optional(Uint32),
  },
  'meshtastic.Data header',
);

/** Where an MQTT-sourced reception came from: broker, topic and what the topic says. */
export const MqttOrigin = Type.Object(
  {
    broker: Type.String({
      description: 'Name of the broker (the bridge config section) or "leaf" for nats-server MQTT',
    }),
    topic: Type.String({ description: 'MQTT topic as published' }),
    root: Type.String({ description: 'Topic root before /2/, e.g. msh/EU_868 or msh/US/TX' }),
    region: Type.Optional(Type.String({ description: 'Topic level after msh, e.g. EU_868' })),
    channel: Type.Optional(Type.String({ description: 'Channel named in the topic' })),
    format: Type.Union([Type.Literal('protobuf'), Type.Literal('json')], {
      description: 'protobuf: a ServiceEnvelope (e, c and map topics); json: the firmware JSON uplink',
    }),
    unauthenticated: Type.Optional(
      Type.Literal(true, {
        description:
          'JSON uplink: anyone may publish it and nothing in it can be checked; never preferred over protobuf',
      }),
    ),
  },
  { additionalProperties: false, title: 'MQTT origin', description: 'Set on receptions an MQTT bridge produced' },
);

export const ReceptionSource = Type.Union(
  [Type.Literal('radio'), Type.Literal('mqtt'), Type.Literal('legacy-http'), Type.Literal('replay')],
  { description: 'Where the agent got the packet from' },
);

export const Encryption = Type.Union([Type.Literal('none'), Type.Literal('decrypted'), Type.Literal('undecryptable')], {
  description: 'none: plaintext on the wire; decrypted: the agent decrypted it with a channel key',
});

function receptionProps<P extends Port>(port: P) {
  return {
    v: Version,
    kind: Type.Literal('reception'),
    site: Site,
    agent: Agent,
    receivedAt: EpochMs,
    source: ReceptionSource,
    port: Type.Literal(port),
    packet: PacketHeader,
    encryption: Encryption,
    data: Type.Optional(DataHeader),
    payload: PayloadByPort[port],
    channelName: Type.Optional(Type.String({ description: 'Name of the channel whose key decrypted it, when known' })),
    gatewayId: Type.Optional(Type.String({ description: 'MQTT gateway that uplinked it (envelope sources)' })),
    mqtt: Type.Optional(MqttOrigin),
    raw: Type.Optional(Base64),
  };
}

const variants = PORTS.map((port) =>
  Type.Object(receptionProps(port), { additionalProperties: false, title: `Reception (${port})` }),
);

/** One reception of one packet by one agent: subject mesh.v1.<site>.<agent>.rx.<port>. */
export const Reception = Type.Union(variants, {
  $id: 'https://meshymcmapface.invalid/schemas/v1/reception.schema.json',
  title: 'Reception',
  description:
    'One reception of one packet by one agent. A packet is identified by (packet.from, packet.id); the same packet heard by several agents is several receptions. raw is the MeshPacket protobuf as received.',
});

/** The envelope alone, payload unchecked: used to report envelope errors before payload errors. */
export const ReceptionEnvelope = Closed(
  { ...receptionProps('other'), port: Type.Union(PORTS.map((p) => Type.Literal(p))), payload: Type.Unknown() },
  { $id: 'reception-envelope', title: 'Reception envelope', description: 'Reception without payload checks' },
);

/** The schema is built per port at run time; the types are spelt out so that `port` discriminates `payload`. */
export type ReceptionOf<P extends Port> = Omit<Static<typeof ReceptionEnvelope>, 'port' | 'payload'> & {
  port: P;
  payload: PayloadOf<P>;
};
export type Reception = { [P in Port]: ReceptionOf<P> }[Port];
export type PacketHeader = Static<typeof PacketHeader>;
export type MqttOrigin = Static<typeof MqttOrigin>;
export type DataHeader = Static<typeof DataHeader>;
