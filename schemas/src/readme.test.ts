import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_KINDS, KIND_OF_SUBJECT } from './catalog.js';
import { subjectOf } from './routing.js';
import { parseSubject } from './subjects.js';
import { decodeEvent, type MeshEvent, validateEvent } from './validate.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const examples = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('README examples', () => {
  it('has an example of every event kind', () => {
    const kinds = new Set(examples.map((e) => (JSON.parse(e) as { kind: string }).kind));
    expect([...kinds].sort()).toEqual([...EVENT_KINDS].sort());
  });
  it.each(examples.map((e, i) => [i, e]))('example %i is a valid event', (_i, text) => {
    const res = validateEvent(JSON.parse(text as string));
    expect(res.ok ? 'valid' : res.error).toBe('valid');
  });
  it.each(examples.map((e, i) => [i, e]))(
    'example %i goes on a subject of its own kind and decodes from it',
    (_i, text) => {
      const ev = JSON.parse(text as string) as MeshEvent;
      const subject = subjectOf(ev);
      expect(KIND_OF_SUBJECT[parseSubject(subject).kind]).toBe(ev.kind);
      const res = decodeEvent(subject, text as string);
      expect(res.ok ? 'decoded' : res.error).toBe('decoded');
    },
  );
});
