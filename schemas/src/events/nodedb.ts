import { type Static, Type } from '@sinclair/typebox';
import { Agent, Closed, EpochMs, EpochS, NodeNum, Open, Site, Uint32, Version } from './common.js';
import { PositionPayload, UserPayload } from './payloads.js';

/** meshtastic.NodeInfo as the radio reports it in its node DB (protobuf JSON, enums as integers). */
export const NodeDbEntry = Open(
  {
    num: NodeNum,
    user: Type.Optional(UserPayload),
    position: Type.Optional(PositionPayload),
    snr: Type.Optional(Type.Number()),
    lastHeard: Type.Optional(EpochS),
    deviceMetrics: Type.Optional(Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()]))),
    channel: Type.Optional(Uint32),
    viaMqtt: Type.Optional(Type.Boolean()),
    hopsAway: Type.Optional(Uint32),
    isFavorite: Type.Optional(Type.Boolean()),
    isIgnored: Type.Optional(Type.Boolean()),
  },
  'meshtastic.NodeInfo',
);

/** The radio's whole node DB at one moment: subject mesh.v1.<site>.<agent>.nodedb. */
export const NodeDbSnapshot = Closed(
  {
    v: Version,
    kind: Type.Literal('nodedb'),
    site: Site,
    agent: Agent,
    takenAt: EpochMs,
    reason: Type.Union([
      Type.Literal('interval'),
      Type.Literal('change'),
      Type.Literal('connect'),
      Type.Literal('legacy'),
    ]),
    myNodeNum: Type.Optional(NodeNum),
    nodes: Type.Array(NodeDbEntry),
  },
  {
    $id: 'https://meshymcmapface.invalid/schemas/v1/nodedb.schema.json',
    title: 'NodeDbSnapshot',
    description: "The radio's node DB as seen by one agent, sent on a cadence and when it changes",
  },
);
export type NodeDbSnapshot = Static<typeof NodeDbSnapshot>;
export type NodeDbEntry = Static<typeof NodeDbEntry>;

export const TracePath = Type.Object(
  {
    route: Type.Array(NodeNum, { description: 'Full path including both endpoints, in travel order' }),
    snr: Type.Array(Type.Union([Type.Number(), Type.Null()]), {
      description: 'SNR in dB of each hop (route[i] -> route[i+1]); null where the firmware reported unknown (-128)',
    }),
  },
  { additionalProperties: false },
);

/** A traceroute outcome: subject mesh.v1.<site>.<agent>.trace. */
export const TraceOutcome = Closed(
  {
    v: Version,
    kind: Type.Literal('trace'),
    site: Site,
    agent: Agent,
    requestId: Uint32,
    from: NodeNum,
    to: NodeNum,
    startedAt: EpochMs,
    finishedAt: EpochMs,
    outcome: Type.Union([Type.Literal('success'), Type.Literal('timeout'), Type.Literal('error')]),
    trigger: Type.Optional(
      Type.Union([
        Type.Literal('sweep'),
        Type.Literal('priority'),
        Type.Literal('stale'),
        Type.Literal('seen'),
        Type.Literal('manual'),
        Type.Literal('legacy'),
      ]),
    ),
    hopLimit: Type.Optional(Uint32),
    channel: Type.Optional(Uint32),
    towards: Type.Optional(TracePath),
    back: Type.Optional(Type.Union([TracePath, Type.Null()])),
    error: Type.Optional(Type.String()),
  },
  {
    $id: 'https://meshymcmapface.invalid/schemas/v1/trace.schema.json',
    title: 'TraceOutcome',
    description:
      'A traceroute from the agent radio (from) to a node (to): success with the path both ways and SNR per hop, or a timeout',
  },
);
export type TraceOutcome = Static<typeof TraceOutcome>;
export type TracePath = Static<typeof TracePath>;
