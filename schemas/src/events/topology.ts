import { type Static, Type } from '@sinclair/typebox';
import { Agent, Closed, EpochMs, NodeNum, Site, Version } from './common.js';

export const Evidence = Type.Union([Type.Literal('traceroute'), Type.Literal('neighborinfo'), Type.Literal('direct')]);

/** A directed radio link from -> to (to heard from), with SNR measured at the receiving end. */
export const Link = Type.Object(
  {
    from: NodeNum,
    to: NodeNum,
    snrLatest: Type.Union([Type.Number(), Type.Null()]),
    snrMedian: Type.Union([Type.Number(), Type.Null()]),
    samples: Type.Integer({ minimum: 0 }),
    firstSeen: EpochMs,
    lastSeen: EpochMs,
    evidence: Type.Array(Evidence),
    quality: Type.Number({ minimum: 0, maximum: 1, description: 'Link quality score from SNR, recency and evidence' }),
  },
  { additionalProperties: false },
);

/** Derived topology change: subjects mesh.v1.derived.topology.link|hops|relay. */
export const TopologyUpdate = Closed(
  {
    v: Version,
    kind: Type.Literal('topology'),
    type: Type.Union([Type.Literal('link'), Type.Literal('hops'), Type.Literal('relay')]),
    at: EpochMs,
    links: Type.Optional(Type.Array(Link)),
    removedLinks: Type.Optional(
      Type.Array(Type.Object({ from: NodeNum, to: NodeNum }, { additionalProperties: false })),
    ),
    hops: Type.Optional(
      Type.Object(
        {
          site: Site,
          agent: Agent,
          agentNode: Type.Optional(NodeNum),
          distances: Type.Record(Type.String({ pattern: '^[0-9]+$' }), Type.Integer({ minimum: 0 }), {
            description: 'node number -> hops from the agent radio',
          }),
          observed: Type.Optional(
            Type.Record(Type.String({ pattern: '^[0-9]+$' }), Type.Integer({ minimum: 0 }), {
              description:
                'node number -> hops the agent last observed directly (hopStart - hopLimit of its receptions, or the node DB hopsAway), to cross-check distances',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    relays: Type.Optional(
      Type.Array(
        Type.Object(
          {
            relayByte: Type.Integer({ minimum: 0, maximum: 255 }),
            candidates: Type.Array(NodeNum),
            site: Site,
            agent: Agent,
            narrowed: Type.Optional(
              Type.Boolean({
                description: 'true when the candidates were narrowed to fresh neighbours of the agent radio',
              }),
            ),
            lastSeen: Type.Optional(EpochMs),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  {
    $id: 'https://meshymcmapface.invalid/schemas/v1/topology.schema.json',
    title: 'TopologyUpdate',
    description:
      'A change of the derived topology: links (SNR per direction), hop distances per agent, relay inference',
  },
);
export type TopologyUpdate = Static<typeof TopologyUpdate>;
export type Link = Static<typeof Link>;
