import { type Static, Type } from '@sinclair/typebox';
import { Agent, Closed, EpochMs, NodeNum, Site, Version } from './common.js';

export const RadioState = Type.Union([
  Type.Literal('connecting'),
  Type.Literal('configuring'),
  Type.Literal('connected'),
  Type.Literal('disconnected'),
]);

/** Agent heartbeat: subject mesh.v1.<site>.<agent>.status, every 30 s. */
export const AgentStatus = Closed(
  {
    v: Version,
    kind: Type.Literal('status'),
    site: Site,
    agent: Agent,
    at: EpochMs,
    startedAt: EpochMs,
    version: Type.String({ description: 'Agent software version' }),
    location: Type.Object(
      {
        name: Type.String(),
        lat: Type.Union([Type.Number({ minimum: -90, maximum: 90 }), Type.Null()]),
        lon: Type.Union([Type.Number({ minimum: -180, maximum: 180 }), Type.Null()]),
      },
      { additionalProperties: false },
    ),
    radio: Type.Object(
      {
        state: RadioState,
        transport: Type.Union([Type.Literal('tcp'), Type.Literal('serial'), Type.Literal('none')]),
        address: Type.String(),
        since: EpochMs,
        lastFrameAt: Type.Union([EpochMs, Type.Null()]),
        reconnects: Type.Integer({ minimum: 0 }),
        myNodeNum: Type.Optional(NodeNum),
        firmwareVersion: Type.Optional(Type.String()),
        hwModel: Type.Optional(Type.Integer()),
        region: Type.Optional(Type.Integer()),
        modemPreset: Type.Optional(Type.Integer()),
      },
      { additionalProperties: true },
    ),
    buffer: Type.Object(
      {
        inFlight: Type.Integer({ minimum: 0, description: 'Publishes awaiting a JetStream ack' }),
        streamMessages: Type.Integer({ minimum: 0, description: 'Messages held by the site stream' }),
        streamBytes: Type.Integer({ minimum: 0 }),
        hubConnected: Type.Optional(
          Type.Boolean({
            description: "The hub answered through the leaf's link (absent: not asked, [nats] hub_domain empty)",
          }),
        ),
        hubBacklog: Type.Optional(
          Type.Integer({
            minimum: 0,
            description: "Site-stream messages the hub's sourcing has still to take (absent while it is not sourcing)",
          }),
        ),
      },
      { additionalProperties: true },
    ),
    counters: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), {
      description: 'Monotonic counters since start, e.g. framesRead, receptions, publishErrors, decodeErrors, traces',
    }),
  },
  {
    $id: 'https://meshymcmapface.invalid/schemas/v1/status.schema.json',
    title: 'AgentStatus',
    description: 'Agent heartbeat: radio link state, own node, buffer depth and counters',
  },
);
export type AgentStatus = Static<typeof AgentStatus>;
