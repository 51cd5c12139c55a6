import { describe, expect, it } from 'vitest';
import { commandSubjects, parseCommandReply, parseTextCommand, TEXT_MAX_BYTES, truncateUtf8 } from './commands.js';

describe('commands', () => {
  it('puts commands outside the event subjects', () => {
    expect(commandSubjects.text('north', 'gw-1')).toBe('mmm.cmd.north.gw-1.text');
    expect(commandSubjects.text('north', 'gw-1').startsWith('mesh.v1.')).toBe(false);
    expect(() => commandSubjects.text('north', 'a.b')).toThrow(/agent id/);
  });
  it('accepts a text command and rejects bad ones with the field', () => {
    expect(parseTextCommand('{"key":"k","text":"hi","to":"!0000abcd","channel":1}').ok).toBe(true);
    const bad = (raw: string) => {
      const r = parseTextCommand(raw);
      return r.ok ? 'ok' : r.error;
    };
    expect(bad('{')).toMatch(/not JSON/);
    expect(bad('{"key":"k","text":"hi","to":"42"}')).toMatch(/^\/to/);
    expect(bad('{"key":"k","text":"hi","extra":1}')).toMatch(/extra/);
    expect(bad('{"key":"k","text":""}')).toMatch(/^\/text/);
    expect(bad(JSON.stringify({ key: 'k', text: 'é'.repeat(150) }))).toMatch(/bytes/);
  });
  it('parses replies', () => {
    expect(parseCommandReply('{"ok":true}').ok).toBe(true);
    expect(parseCommandReply('{"ok":false,"error":"radio"}').ok).toBe(true);
    expect(parseCommandReply('nope').ok).toBe(false);
  });
  it('truncates to whole characters within the byte budget', () => {
    expect(truncateUtf8('short')).toBe('short');
    for (const s of ['a'.repeat(500), 'é'.repeat(300), '😀'.repeat(100), `a${'€'.repeat(100)}`]) {
      const t = truncateUtf8(s);
      expect(Buffer.byteLength(t, 'utf8')).toBeLessThanOrEqual(TEXT_MAX_BYTES);
      expect(t.endsWith('…')).toBe(true);
      // Round-tripping through bytes keeps it intact only if no character was cut.
      expect(Buffer.from(t, 'utf8').toString('utf8')).toBe(t);
      expect(t).not.toMatch(/\uFFFD/);
      expect(s.startsWith(t.slice(0, -1))).toBe(true);
    }
  });
});
