import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { NODE_ID_PATTERN } from './events/alert.js';
import { assertSite, assertToken } from './tokens.js';

/**
 * Commands to an agent travel on `mmm.cmd.<site>.<agent>.<command>`, outside `mesh.v1.>`: a site stream captures
 * `mesh.v1.<site>.>`, and a command must never be stored and replayed to a radio. They are core NATS request/reply.
 */
export const COMMAND_ROOT = 'mmm.cmd';

export const commandSubjects = {
  text: (site: string, agent: string) => `${COMMAND_ROOT}.${assertSite(site)}.${assertToken('agent id', agent)}.text`,
  /** Every agent's text command: what a sender of text messages (the alerts service) may publish. */
  anyText: `${COMMAND_ROOT}.*.*.text`,
  /** One site's commands: what the site's leafnode link passes from hub to leaf. */
  site: (site: string) => `${COMMAND_ROOT}.${assertSite(site)}.>`,
} as const;

/** What a Meshtastic text payload carries (the firmware's DATA_PAYLOAD_LEN is 233; 200 leaves room for headers). */
export const TEXT_MAX_BYTES = 200;

/** The body of a text command: send `text` to `to` (a node id, or broadcast when absent) on channel `channel`. */
export const TextCommand = Type.Object(
  {
    /** Idempotency key: an agent sends a key it has seen recently only once and answers ok again. */
    key: Type.String({ minLength: 1, maxLength: 200 }),
    text: Type.String({ minLength: 1, maxLength: TEXT_MAX_BYTES }),
    to: Type.Optional(Type.String({ pattern: NODE_ID_PATTERN })),
    channel: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 })),
  },
  { additionalProperties: false, title: 'TextCommand', $id: 'https://mmm.local/schemas/text-command.schema.json' },
);
export type TextCommand = Static<typeof TextCommand>;

/** An agent's answer: ok once the radio took the frame, else why not (the sender retries). */
export const CommandReply = Type.Union(
  [
    Type.Object({ ok: Type.Literal(true), duplicate: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    Type.Object({ ok: Type.Literal(false), error: Type.String() }, { additionalProperties: false }),
  ],
  { title: 'CommandReply', $id: 'https://mmm.local/schemas/command-reply.schema.json' },
);
export type CommandReply = Static<typeof CommandReply>;

const textCheck = TypeCompiler.Compile(TextCommand);
const replyCheck = TypeCompiler.Compile(CommandReply);

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses and checks a text command, including its size in bytes (the schema can only count characters). */
export function parseTextCommand(raw: string): Parsed<TextCommand> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, error: 'body is not JSON' };
  }
  if (!textCheck.Check(value)) {
    const e = textCheck.Errors(value).First();
    return { ok: false, error: `${e?.path || '/'}: ${e?.message ?? 'invalid'}` };
  }
  if (Buffer.byteLength(value.text, 'utf8') > TEXT_MAX_BYTES) {
    return { ok: false, error: `/text: longer than ${TEXT_MAX_BYTES} bytes of UTF-8` };
  }
  return { ok: true, value };
}

export function parseCommandReply(raw: string): Parsed<CommandReply> {
  try {
    const value: unknown = JSON.parse(raw);
    if (replyCheck.Check(value)) return { ok: true, value };
  } catch {
    // fall through: not JSON is as bad as the wrong shape
  }
  return { ok: false, error: `not a command reply: ${raw.slice(0, 200)}` };
}

/**
 * The longest prefix of `text` that fits `maxBytes` of UTF-8, cut between code points (never inside a character, nor
 * between the halves of a surrogate pair); `…` marks a cut when it fits.
 */
export function truncateUtf8(text: string, maxBytes: number = TEXT_MAX_BYTES): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const ellipsis = '…';
  const budget = maxBytes - Buffer.byteLength(ellipsis, 'utf8');
  let out = '';
  let used = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (used + n > budget) break;
    out += ch;
    used += n;
  }
  return budget >= 0 ? out + ellipsis : out;
}
