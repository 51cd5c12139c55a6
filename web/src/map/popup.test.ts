import { describe, expect, it } from 'vitest';
import { DETAILED_ROW, HOSTILE } from '../lib/fixtures.test-data.js';
import { toAgent, toNode } from '../lib/normalize.js';
import { agentPopup, nodePopup, textTooltip } from './popup.js';

describe('map popups', () => {
  it("carry the original's content and a link to node detail", () => {
    const el = nodePopup(toNode(DETAILED_ROW), new Map([['gw-1', 'Roof']]));
    const text = el.textContent ?? '';
    for (const s of [
      'BOB (Bob Base)',
      '!deadbeef',
      'TBEAM',
      'ROUTER',
      '87 %',
      '4.01 V',
      '52.53000, 13.41000',
      '-92 dBm',
      '6.25 dB',
    ]) {
      expect(text).toContain(s);
    }
    expect(text).toContain('Roof: !a1b2c3d4 → !00c0ffee → !deadbeef');
    const links = [...el.querySelectorAll('a')].map((a) => a.getAttribute('href'));
    expect(links).toContain('/nodes/!deadbeef');
  });

  it('render hostile names, hardware and agent strings as inert text', () => {
    const n = toNode({
      ...DETAILED_ROW,
      short_name: HOSTILE,
      long_name: `${HOSTILE}<script>alert(2)</script>`,
      hw_model: HOSTILE,
    });
    const el = nodePopup(n, new Map([['gw-1', HOSTILE]]));
    const a = agentPopup(toAgent({ agent_id: 'x', location_name: HOSTILE, coordinates: null }));
    const t = textTooltip(HOSTILE);
    for (const e of [el, a, t]) {
      expect(e.querySelector('img, script')).toBeNull();
      expect(e.textContent).toContain(HOSTILE);
    }
    expect(a.textContent).toContain('Coordinates: —');
  });
});
