import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateEvent } from '@mmm/schemas';
import { fixturePath } from '@mmm/testkit';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { DecodeContext } from './context.js';
import { ChannelKeyring } from './keyring.js';

export const ctx = (over: Partial<DecodeContext> = {}): DecodeContext => ({
  site: 'testsite',
  agent: 'testagent',
  receivedAt: 1_752_573_451_000,
  source: 'radio',
  keys: new ChannelKeyring(),
  ...over,
});

export const fixtureLines = (name: string): string[] =>
  readFileSync(fixturePath(name), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');

const schemaDir = join(import.meta.dirname, '..', '..', '..', '..', 'schemas', 'json');
const ajv = new Ajv2020({ strict: false, allErrors: false });
const receptionSchema = ajv.compile(JSON.parse(readFileSync(join(schemaDir, 'reception.schema.json'), 'utf8')));

/** Checks an event with the contract's own validator and, independently, against the committed JSON Schema file. */
export function contractProblems(event: unknown): string[] {
  const problems: string[] = [];
  const own = validateEvent(JSON.parse(JSON.stringify(event)));
  if (!own.ok) problems.push(`validateEvent: ${own.error}`);
  if (!receptionSchema(JSON.parse(JSON.stringify(event))))
    problems.push(`ajv: ${ajv.errorsText(receptionSchema.errors)}`);
  return problems;
}
