import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ContractError } from './errors.js';
import { msgIdOf, subjectOf } from './routing.js';
import type { MeshEvent } from './validate.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const examples = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as MeshEvent);
const byKind = (kind: string) => examples.find((e) => e.kind === kind)!;

describe('subjectOf / msgIdOf', () => {
  it('route every event kind to its subject and site events to their Msg-Id', () => {
    expect(subjectOf(byKind('reception'))).toBe('mesh.v1.berlin.gw-1.rx.telemetry');
    expect(subjectOf(byKind('nodedb'))).toBe('mesh.v1.berlin.gw-1.nodedb');
    expect(subjectOf(byKind('trace'))).toBe('mesh.v1.berlin.gw-1.trace');
    expect(subjectOf(byKind('status'))).toBe('mesh.v1.berlin.gw-1.status');
    expect(subjectOf(byKind('topology'))).toBe('mesh.v1.derived.topology.link');
    expect(subjectOf(byKind('deadletter'))).toBe('mesh.v1.dlq.ingest');
    expect(msgIdOf(byKind('reception'))).toBe('rx:berlin:gw-1:deadbeef:a9652405:1764108222');
    expect(msgIdOf(byKind('trace'))).toBe('trace:berlin:gw-1:12d687');
    expect(() => msgIdOf(byKind('topology'))).toThrow(ContractError);
  });
});
