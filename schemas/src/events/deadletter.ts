import { type Static, Type } from '@sinclair/typebox';
import { Closed, EpochMs, Version } from './common.js';

/** An event a service could not process: subject mesh.v1.dlq.<service>. */
export const DeadLetter = Closed(
  {
    v: Version,
    kind: Type.Literal('deadletter'),
    service: Type.String(),
    at: EpochMs,
    reason: Type.String({ description: 'Why it was rejected, naming the field where there is one' }),
    subject: Type.String(),
    stream: Type.Optional(Type.String()),
    streamSeq: Type.Optional(Type.Integer({ minimum: 0 })),
    msgId: Type.Optional(Type.String()),
    payload: Type.String({ description: 'The original payload: UTF-8 text when it was text, else base64' }),
    payloadEncoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64')]),
  },
  {
    $id: 'https://meshymcmapface.invalid/schemas/v1/deadletter.schema.json',
    title: 'DeadLetter',
    description: 'An event a consumer could not process, with the reason; good events around it are not held up',
  },
);
export type DeadLetter = Static<typeof DeadLetter>;
