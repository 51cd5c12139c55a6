import type { AlertRule, MeshEvent } from '@mmm/schemas';
import { describe, expect, it } from 'vitest';
import { batteryRx, nodeInfoRx, positionRx, rx, status, T0, textRx } from '../test-events.js';
import { Evaluator, type Notice } from './evaluator.js';
import { noneTouched } from './observe.js';
import { toRule } from './rule.js';

const MIN = 60_000;
const N1 = 0x1a2b3c4d;
const N2 = 0x0badcafe;

function setup(...rules: AlertRule[]) {
  const ev = new Evaluator();
  ev.setRules(rules.map(toRule));
  const feed = (
    e: MeshEvent,
    now = (e as { receivedAt?: number; at?: number }).receivedAt ?? (e as { at: number }).at,
  ) => {
    const touched = noneTouched();
    ev.observe(e, touched);
    return ev.evaluate(now, touched).notices;
  };
  return { ev, feed };
}

const says = (ns: Notice[]) => ns.map((n) => `${n.alert.rule}:${n.alert.state}:${n.notify ?? '-'}`);

describe('evaluator', () => {
  it('first evaluation only establishes state: a node already silent is firing but never notified', () => {
    const { ev, feed } = setup({ name: 'silent', kind: 'node_silent', duration: 3600 });
    feed(rx('routing', { from: N1, at: T0 }, {}));
    const first = ev.evaluate(T0 + 2 * 3600_000);
    expect(first.notices).toEqual([]);
    expect(first.changed.map((t) => [t.alert.state, t.book.baseline])).toEqual([['firing', true]]);
    // Heard again: resolved, still without a word.
    expect(feed(rx('routing', { from: N1, at: T0 + 2 * 3600_000 + 1 }, {}))).toEqual([]);
    // Silent again after establishment: that is news, once.
    const later = ev.evaluate(T0 + 4 * 3600_000);
    expect(says(later.notices)).toEqual(['silent:firing:firing']);
    expect(ev.evaluate(T0 + 4 * 3600_000 + 1000).notices).toEqual([]);
  });

  it('node silent counts any packet, not only telemetry', () => {
    const { ev, feed } = setup({ name: 'silent', kind: 'node_silent', duration: 600 });
    feed(textRx({ from: N1, at: T0 }, 'hi'));
    ev.evaluate(T0);
    feed(rx('routing', { from: N1, at: T0 + 500_000 }, {}));
    expect(ev.evaluate(T0 + 700_000).notices).toEqual([]);
    expect(says(ev.evaluate(T0 + 1_100_001).notices)).toEqual(['silent:firing:firing']);
  });

  it('battery low fires after Y minutes below X and resolves only above X + hysteresis, once each', () => {
    const { ev, feed } = setup({ name: 'bat', kind: 'battery_low', threshold: 20, hysteresis: 5, duration: 300 });
    feed(batteryRx({ from: N1, at: T0 }, 80));
    ev.evaluate(T0);
    expect(feed(batteryRx({ from: N1, at: T0 + MIN }, 15))).toEqual([]);
    expect(ev.evaluate(T0 + 5 * MIN).notices).toEqual([]);
    expect(says(ev.evaluate(T0 + 6 * MIN).notices)).toEqual(['bat:firing:firing']);
    // 22 % is above the threshold but inside the hysteresis band: still firing.
    expect(feed(batteryRx({ from: N1, at: T0 + 7 * MIN }, 22))).toEqual([]);
    expect(feed(batteryRx({ from: N1, at: T0 + 8 * MIN }, 19))).toEqual([]);
    const back = feed(batteryRx({ from: N1, at: T0 + 9 * MIN }, 26));
    expect(says(back)).toEqual(['bat:resolved:resolved']);
    expect(back[0]!.alert.id).toBe(ev.alerts()[0]!.alert.id);
    expect(ev.evaluate(T0 + 20 * MIN).notices).toEqual([]);
  });

  it('keeps an alert firing for min_firing although the condition cleared', () => {
    const { ev, feed } = setup({ name: 'bat', kind: 'battery_low', threshold: 20, duration: 0, min_firing: 600 });
    ev.evaluate(T0);
    expect(says(feed(batteryRx({ from: N1, at: T0 + MIN }, 10)))).toEqual(['bat:firing:firing']);
    expect(feed(batteryRx({ from: N1, at: T0 + 2 * MIN }, 90))).toEqual([]);
    expect(says(ev.evaluate(T0 + 12 * MIN).notices)).toEqual(['bat:resolved:resolved']);
  });

  it('new node and text match fire on the event, within the batch, and resolve by themselves silently', () => {
    const { ev, feed } = setup(
      { name: 'new', kind: 'new_node', duration: 60 },
      { name: 'sos', kind: 'text_match', pattern: '\\bsos\\b', duration: 60 },
    );
    feed(textRx({ from: N1, at: T0 }, 'hello'));
    ev.evaluate(T0);
    expect(says(feed(textRx({ from: N2, at: T0 + 1000 }, 'SOS need help')))).toEqual([
      'new:firing:firing',
      'sos:firing:firing',
    ]);
    expect(feed(textRx({ from: N1, at: T0 + 2000 }, 'all fine'))).toEqual([]);
    expect(says(ev.evaluate(T0 + 2 * MIN).notices)).toEqual(['new:resolved:-', 'sos:resolved:-']);
  });

  it('agent rules: not reporting, radio disconnected, leaf unlinked', () => {
    const { ev, feed } = setup(
      { name: 'agent', kind: 'agent_silent', duration: 600 },
      { name: 'radio', kind: 'radio_disconnected', duration: 60 },
      { name: 'leaf', kind: 'leaf_unlinked', duration: 60 },
    );
    feed(status({ at: T0 }));
    ev.evaluate(T0);
    feed(status({ at: T0 + 30_000, radio: 'disconnected', radioSince: T0 + 20_000, hubConnected: false, held: 9 }));
    expect(says(ev.evaluate(T0 + 95_000).notices)).toEqual(['radio:firing:firing', 'leaf:firing:firing']);
    expect(says(feed(status({ at: T0 + 100_000, hubConnected: true })))).toEqual([
      'radio:resolved:resolved',
      'leaf:resolved:resolved',
    ]);
    expect(says(ev.evaluate(T0 + 100_000 + 601_000).notices)).toEqual(['agent:firing:firing']);
  });

  it('agent silent covers MQTT gateways: each uplink is their sign of life', () => {
    const { ev, feed } = setup({ name: 'agent', kind: 'agent_silent', duration: 600 });
    const uplink = (at: number) =>
      rx('routing', { from: N1, at, site: 'mqtt-public', agent: 'gw-e2e52244', source: 'mqtt' }, {});
    feed(uplink(T0));
    ev.evaluate(T0);
    feed(uplink(T0 + 300_000));
    expect(ev.evaluate(T0 + 800_000).notices).toEqual([]); // 500 s since the last uplink
    const fired = ev.evaluate(T0 + 901_000).notices;
    expect(says(fired)).toEqual(['agent:firing:firing']);
    expect(fired[0]!.alert).toMatchObject({ site: 'mqtt-public', agent_id: 'gw-e2e52244' });
    expect(says(feed(uplink(T0 + 950_000)))).toEqual(['agent:resolved:resolved']);
    // Receptions a radio agent hears do not stand in for its status events.
    const radioOnly = setup({ name: 'agent', kind: 'agent_silent', duration: 600 });
    radioOnly.feed(rx('routing', { from: N1, at: T0 }, {}));
    expect(radioOnly.ev.evaluate(T0 + 901_000).notices).toEqual([]);
  });

  it('hub backlog: fires when the hub stays more than threshold events behind for duration, resolves at or below', () => {
    const { ev, feed } = setup({ name: 'behind', kind: 'hub_backlog', threshold: 100, duration: 60 });
    feed(status({ at: T0, hubConnected: true, hubBacklog: 0 }));
    ev.evaluate(T0);
    feed(status({ at: T0 + 10_000, hubConnected: true, hubBacklog: 500 }));
    expect(says(ev.evaluate(T0 + 60_000).notices)).toEqual([]); // behind for 50 s only
    // Unlinked (not asked): the backlog is unknown, which neither starts nor ends the condition.
    feed(status({ at: T0 + 65_000, hubConnected: false }));
    const fired = ev.evaluate(T0 + 71_000).notices;
    expect(says(fired)).toEqual(['behind:firing:firing']);
    expect(fired[0]!.alert.summary).toContain('500 events behind');
    expect(says(feed(status({ at: T0 + 80_000, hubConnected: true, hubBacklog: 100 })))).toEqual([
      'behind:resolved:resolved',
    ]);
  });

  it('link quality: a watched node whose best link stays below threshold fires, and resolves past the hysteresis', () => {
    const { ev, feed } = setup({
      name: 'weak',
      kind: 'link_quality',
      threshold: 40,
      hysteresis: 5,
      duration: 60,
      nodes: ['!1a2b3c4d'],
    });
    const N3 = 0x00c0ffee;
    feed(rx('routing', { from: N1, at: T0 }, {}));
    feed(rx('routing', { from: N2, at: T0 }, {}));
    ev.evaluate(T0);
    const link = (from: number, to: number, quality: number | undefined, at: number) => {
      const touched = noneTouched();
      ev.observeLink({ from, to, quality }, at, touched);
      return ev.evaluate(at, touched).notices;
    };
    expect(link(N2, N1, 0.8, T0 + 1000)).toEqual([]);
    expect(link(N2, N1, 0.3, T0 + 10_000)).toEqual([]); // below, but not for 60 s yet
    // N2 is not watched: its own links never fire the rule.
    expect(link(N2, N3, 0.1, T0 + 20_000)).toEqual([]);
    const fired = ev.evaluate(T0 + 71_000).notices;
    expect(says(fired)).toEqual(['weak:firing:firing']);
    expect(fired[0]!.alert.node_id).toBe('!1a2b3c4d');
    expect(fired[0]!.alert.summary).toContain('best link quality 30 % (below 40 %), to !0badcafe');
    expect(link(N3, N1, 0.43, T0 + 80_000)).toEqual([]); // better, within the hysteresis: still firing
    expect(says(link(N1, N3, 0.6, T0 + 90_000))).toEqual(['weak:resolved:resolved']);
    // Every link aged out: quality 0, which holds again.
    link(N2, N1, undefined, T0 + 100_000);
    link(N3, N1, undefined, T0 + 100_000);
    link(N1, N3, undefined, T0 + 100_000);
    expect(says(ev.evaluate(T0 + 161_000).notices)).toEqual(['weak:firing:firing']);
  });

  it('scopes by role and node moved measures from the last anchor', () => {
    const { ev, feed } = setup({ name: 'moved', kind: 'node_moved', threshold: 500, roles: ['ROUTER'] });
    feed(nodeInfoRx({ from: N1, at: T0 }, 2));
    feed(nodeInfoRx({ from: N2, at: T0 }, 0));
    ev.evaluate(T0);
    feed(positionRx({ from: N1, at: T0 + 1 }, 52.5, 13.4));
    feed(positionRx({ from: N2, at: T0 + 1 }, 52.5, 13.4));
    expect(feed(positionRx({ from: N1, at: T0 + 2 }, 52.501, 13.4))).toEqual([]);
    expect(feed(positionRx({ from: N2, at: T0 + 2 }, 52.6, 13.4))).toEqual([]);
    const moved = feed(positionRx({ from: N1, at: T0 + 3 }, 52.51, 13.4));
    expect(says(moved)).toEqual(['moved:firing:firing']);
    expect(moved[0]!.alert.summary).toMatch(/moved 1112 m/);
  });

  it('silences hold notifications back until they end; acks stop re-notification', () => {
    const { ev, feed } = setup({ name: 'bat', kind: 'battery_low', threshold: 20, duration: 0, renotify: 600 });
    ev.evaluate(T0);
    ev.setSilence({ id: 's1', node_id: '!1a2b3c4d', until: T0 + 10 * MIN, created_at: T0 });
    expect(says(feed(batteryRx({ from: N1, at: T0 + MIN }, 10)))).toEqual(['bat:firing:-']);
    expect(says(ev.evaluate(T0 + 5 * MIN).notices)).toEqual([]);
    expect(says(ev.evaluate(T0 + 11 * MIN).notices)).toEqual(['bat:firing:firing']);
    expect(says(ev.evaluate(T0 + 22 * MIN).notices)).toEqual(['bat:firing:renotify']);
    ev.ack(ev.alerts()[0]!.alert.id);
    expect(says(ev.evaluate(T0 + 40 * MIN).notices)).toEqual([]);
  });

  it('a replay after a crash finds the alerts it already made: nothing repeated', () => {
    const rule = { name: 'bat', kind: 'battery_low', threshold: 20, duration: 0 } as const;
    const events = [batteryRx({ from: N1, at: T0 + MIN }, 10), batteryRx({ from: N1, at: T0 + 2 * MIN }, 90)];
    const a = setup(rule);
    a.ev.evaluate(T0);
    const firing = a.feed(events[0]!);
    expect(says(firing)).toEqual(['bat:firing:firing']);
    // Crash after the firing was stored, before the checkpoint: the new process has the alert, not the world.
    const b = setup(rule);
    b.ev.established.set('bat', [...a.ev.established.values()][0]!);
    b.ev.setRules(a.ev.ruleList());
    b.ev.load(a.ev.alerts().map((t) => ({ alert: { ...t.alert }, book: { ...t.book } })));
    expect(b.feed(events[0]!, T0 + 3 * MIN)).toEqual([]);
    expect(says(b.feed(events[1]!, T0 + 3 * MIN))).toEqual(['bat:resolved:resolved']);
  });
});
