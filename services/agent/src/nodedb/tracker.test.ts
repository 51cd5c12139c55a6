import { type Reception, SCHEMA_VERSION } from '@mmm/schemas';
import { describe, expect, it } from 'vitest';
import { NodeDbTracker } from './tracker.js';

function rx(port: Reception['port'], payload: unknown, over: Partial<Reception['packet']> = {}): Reception {
  return {
    v: SCHEMA_VERSION,
    kind: 'reception',
    site: 's',
    agent: 'a',
    receivedAt: 1_700_000_000_000,
    source: 'radio',
    port,
    packet: {
      from: 5,
      to: 0xffffffff,
      id: 1,
      channel: 0,
      rxTime: 1_700_000_000,
      rxSnr: 6.5,
      rxRssi: -90,
      hopStart: 3,
      hopLimit: 2,
      relayNode: 0,
      nextHop: 0,
      wantAck: false,
      viaMqtt: false,
      priority: 0,
      pkiEncrypted: false,
      ...over,
    },
    encryption: 'none',
    payload,
  } as Reception;
}

describe('NodeDbTracker', () => {
  it('folds live packets in and flags only changes a map shows', () => {
    const t = new NodeDbTracker();
    t.upsert({ num: 5, user: { longName: 'Alpha', shortName: 'A' }, hopsAway: 1 });
    t.changed = false;
    t.apply(rx('telemetry', { deviceMetrics: { batteryLevel: 0, voltage: 3.7 } }));
    const [n] = t.snapshot();
    expect(n).toMatchObject({
      num: 5,
      lastHeard: 1_700_000_000,
      snr: 6.5,
      hopsAway: 1,
      deviceMetrics: { batteryLevel: 0, voltage: 3.7 },
    });
    expect(t.changed).toBe(false); // same hops, metrics only
    t.apply(rx('nodeinfo', { longName: 'Alpha 2', shortName: 'A2' }));
    expect(t.changed).toBe(true);
    t.changed = false;
    t.apply(
      rx(
        'position',
        { latitudeI: 525_000_000, longitudeI: 134_000_000, latitude: 52.5, longitude: 13.4 },
        { hopStart: 3, hopLimit: 0 },
      ),
    );
    expect(t.changed).toBe(true);
    expect(t.snapshot()[0]).toMatchObject({ hopsAway: 3, position: { latitude: 52.5 } });
    t.apply(rx('text', { text: 'hi' }, { from: 9 }));
    expect(t.size).toBe(2);
  });
});
