import type { TSchema } from '@sinclair/typebox';

/** Plain JSON Schema (draft 2020-12) text for one TypeBox schema; TypeBox's symbols are not serialised. */
export function renderSchema(schema: TSchema): string {
  const plain = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  return `${JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...plain }, null, 2)}\n`;
}
