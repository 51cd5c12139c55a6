import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateEvent } from './validate.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const examples = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('README examples', () => {
  it('has an example of every event kind', () => {
    const kinds = new Set(examples.map((e) => (JSON.parse(e) as { kind: string }).kind));
    expect([...kinds].sort()).toEqual(['alert', 'deadletter', 'nodedb', 'reception', 'status', 'topology', 'trace']);
  });
  it.each(examples.map((e, i) => [i, e]))('example %i is a valid event', (_i, text) => {
    const res = validateEvent(JSON.parse(text as string));
    expect(res.ok ? 'valid' : res.error).toBe('valid');
  });
});
