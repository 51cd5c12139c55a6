import { type TSchema, Type } from '@sinclair/typebox';
import { TOKEN_PATTERN } from '../tokens.js';

/** Bumped only for breaking changes; additive fields keep the version. */
export const SCHEMA_VERSION = 1 as const;

export const Version = Type.Literal(SCHEMA_VERSION, { description: 'Schema version of this event' });
export const Site = Type.String({ pattern: TOKEN_PATTERN, description: 'Site id (a subject token)' });
export const Agent = Type.String({ pattern: TOKEN_PATTERN, description: 'Agent id (a subject token)' });
export const NodeNum = Type.Integer({ minimum: 0, maximum: 0xffffffff, description: 'Node number (uint32)' });
export const Int = Type.Integer();
export const Uint32 = Type.Integer({ minimum: 0, maximum: 0xffffffff });
export const EpochMs = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });
export const EpochS = Type.Integer({ minimum: 0, description: 'Unix time in seconds' });
export const Base64 = Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', description: 'Base64 bytes' });

/** Objects decoded from radio payloads: known fields are typed, fields from newer firmware pass through. */
export function Open<T extends Record<string, TSchema>>(props: T, description?: string) {
  return Type.Object(props, { additionalProperties: true, ...(description ? { description } : {}) });
}

/** Event envelopes are closed: a misspelt field is an error, not silently dropped data. */
export function Closed<T extends Record<string, TSchema>>(
  props: T,
  options: { $id: string; title: string; description: string },
) {
  return Type.Object(props, { additionalProperties: false, ...options });
}
