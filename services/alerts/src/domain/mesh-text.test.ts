import { type AlertEvent, TEXT_MAX_BYTES } from '@mmm/schemas';
import { describe, expect, it } from 'vitest';
import { meshText } from './mesh-text.js';

const alert = (summary: string) => ({ rule: 'sos', summary }) as AlertEvent;

describe('mesh text of a notification', () => {
  it('labels the notification and keeps a short summary whole', () => {
    expect(meshText('firing', alert('Gate 🚪: help'))).toBe('ALERT sos: Gate 🚪: help');
    expect(meshText('resolved', alert('x'))).toBe('OK sos: x');
  });
  it('cuts a hostile, oversized summary between characters and removes control characters', () => {
    const hostile = `\u0007\u001b[31m<script>${'😀é'.repeat(200)}\r\nend\u2028`;
    const t = meshText('firing', alert(hostile));
    expect(Buffer.byteLength(t, 'utf8')).toBeLessThanOrEqual(TEXT_MAX_BYTES);
    expect(Buffer.byteLength(t, 'utf8')).toBeGreaterThan(TEXT_MAX_BYTES - 4);
    expect([...t].filter((c) => c.codePointAt(0)! < 0x20 || c === '\u2028')).toEqual([]);
    expect(Buffer.from(t, 'utf8').toString('utf8')).toBe(t);
    expect(t.startsWith('ALERT sos: [31m<script>😀é')).toBe(true);
    expect(t.endsWith('…')).toBe(true);
  });
});
