import { describe, expect, it } from 'vitest';
import { parseMeshTopic } from './topic.js';

describe('parseMeshTopic', () => {
  it('reads envelope, legacy, JSON and map topics, whatever the depth of the root', () => {
    expect(parseMeshTopic('msh/EU_868/2/e/LongFast/!55c76a9c')).toEqual({
      ok: true,
      value: { kind: 'envelope', root: 'msh/EU_868', region: 'EU_868', channel: 'LongFast', gateway: '!55c76a9c' },
    });
    expect(parseMeshTopic('msh/US/TX/2/c/MediumFast/!abcdef01')).toMatchObject({
      ok: true,
      value: { kind: 'envelope', root: 'msh/US/TX', region: 'US', channel: 'MediumFast' },
    });
    expect(parseMeshTopic('msh/EU_868/2/json/LongFast/!55c76a9c')).toMatchObject({ ok: true, value: { kind: 'json' } });
    expect(parseMeshTopic('msh/EU_868/2/map/')).toMatchObject({ ok: true, value: { kind: 'map', region: 'EU_868' } });
    expect(parseMeshTopic('custom/2/e/LongFast/!55c76a9c')).toMatchObject({ ok: true, value: { root: 'custom' } });
    // nats-server's MQTT listener turns a topic into a subject: the same levels, separated by dots.
    expect(parseMeshTopic('msh.EU_868.2.e.LongFast.!55c76a9c', '.')).toMatchObject({
      ok: true,
      value: { kind: 'envelope', channel: 'LongFast', gateway: '!55c76a9c' },
    });
  });

  it('says why a topic is not one', () => {
    for (const t of ['', 'msh', 'msh/EU_868/2/e/LongFast', 'msh/EU_868/2/x/a/b', 'msh/EU_868/2/e/a/b/c', '2/e/a/b']) {
      const r = parseMeshTopic(t);
      expect(r.ok, t).toBe(false);
      if (!r.ok) expect(r.error).toContain(JSON.stringify(t));
    }
  });
});
