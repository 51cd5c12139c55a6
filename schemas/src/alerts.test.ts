import { describe, expect, it } from 'vitest';
import { alertSubjects, validateAlertRule, validateAlertSilence } from './alerts.js';
import { decodeEvent } from './validate.js';

describe('alert rules', () => {
  it('accepts a complete rule', () => {
    const res = validateAlertRule({ name: 'battery-low', kind: 'battery_low', threshold: 20, duration: 600 });
    expect(res.ok).toBe(true);
  });
  it.each([
    [{ name: 'x', kind: 'volcano' }, 'kind'],
    [{ name: 'x', kind: 'node_silent', duration: -5 }, 'duration'],
    [{ name: 'x', kind: 'node_silent', nodes: ['1234'] }, 'nodes'],
    [{ name: 'Bad Name', kind: 'new_node' }, 'name'],
    [{ name: 'x', kind: 'battery_low' }, 'threshold'],
    [{ name: 'x', kind: 'text_match', pattern: '(' }, 'pattern'],
    [{ name: 'x', kind: 'new_node', roles: ['KING'] }, 'roles'],
    [{ name: 'x', kind: 'new_node', colour: 'red' }, 'colour'],
  ])('rejects %j naming %s', (rule, field) => {
    const res = validateAlertRule(rule);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.field).toBe(field);
  });
  it('needs a rule or a node in a silence', () => {
    const res = validateAlertSilence({ id: 's1', until: 1, created_at: 1 });
    expect(res.ok ? 'ok' : res.field).toBe('rule');
  });
});

describe('alert events', () => {
  const ev = {
    v: 1,
    kind: 'alert',
    id: 'battery-low.n1a2b3c4d.1',
    rule: 'battery-low',
    rule_kind: 'battery_low',
    state: 'firing',
    node_id: '!1a2b3c4d',
    site: 's1',
    agent_id: 'a1',
    since: 1,
    resolved_at: null,
    summary: 'low',
    acknowledged: false,
    silenced_until: null,
    at: 2,
  };
  it('decodes on its own subject and refuses another rule or state', () => {
    expect(decodeEvent(alertSubjects.transition('battery-low', 'firing'), JSON.stringify(ev)).ok).toBe(true);
    const wrong = decodeEvent(alertSubjects.transition('battery-low', 'resolved'), JSON.stringify(ev));
    expect(wrong.ok ? 'ok' : wrong.error).toMatch(/^\/rule/);
  });
});
