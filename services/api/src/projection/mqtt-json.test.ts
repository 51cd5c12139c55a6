import type { Reception } from '@mmm/schemas';
import { validateEvent } from '@mmm/schemas';
import { describe, expect, it } from 'vitest';
import { openDb } from '../store/db.js';
import { ProjectionWriter } from './apply.js';
import { emptyChanges } from './changes.js';

/** A nodeinfo reception as `mmm mqtt` publishes it: protobuf from an envelope, or the gateway's JSON uplink. */
function nodeinfo(format: 'protobuf' | 'json', longName: string, packetId: number, receivedAt: number): Reception {
  const ev = {
    v: 1,
    kind: 'reception',
    site: 'mqtt-public',
    agent: 'gw-e2e52244',
    receivedAt,
    source: 'mqtt',
    port: 'nodeinfo',
    packet: {
      from: 4201166456,
      to: 4294967295,
      id: packetId,
      channel: 0,
      rxTime: 1712653096,
      rxSnr: 6.5,
      rxRssi: -85,
      hopStart: 3,
      hopLimit: 3,
      relayNode: 0,
      nextHop: 0,
      wantAck: false,
      viaMqtt: false,
      priority: 0,
      pkiEncrypted: false,
    },
    encryption: 'none',
    data: { portnum: 4, wantResponse: false, dest: 0, source: 0, requestId: 0, replyId: 0, emoji: 0 },
    payload: { id: '!fa68b678', longName, shortName: 'P200', hwModel: 44 },
    gatewayId: '!e2e52244',
    mqtt: {
      broker: 'public',
      topic: `msh/EU_868/2/${format === 'json' ? 'json' : 'e'}/LongFast/!e2e52244`,
      root: 'msh/EU_868',
      channel: 'LongFast',
      format,
      ...(format === 'json' ? { unauthenticated: true } : {}),
    },
  };
  const v = validateEvent(ev);
  if (!v.ok) throw new Error(v.error);
  return ev as Reception;
}

describe('projection of MQTT JSON uplink (unauthenticated)', () => {
  it('keeps both receptions but never lets JSON override what the protobuf reception of the packet says', () => {
    const db = openDb(':memory:');
    const w = new ProjectionWriter(db);
    const name = () =>
      (db.prepare('SELECT long_name FROM nodes WHERE num = 4201166456').get() as { long_name: string }).long_name;
    const rows = () => (db.prepare('SELECT COUNT(*) AS n FROM receptions').get() as { n: number }).n;

    // Protobuf first, then a JSON copy of the same packet from the same gateway claiming another name.
    w.apply(nodeinfo('protobuf', 'Real name', 1, 1000), emptyChanges());
    w.apply(nodeinfo('json', 'Forged name', 1, 2000), emptyChanges());
    expect(rows()).toBe(2);
    expect(name()).toBe('Real name');

    // JSON first: it stands until the protobuf reception of that packet arrives, which wins.
    w.apply(nodeinfo('json', 'Early JSON', 2, 3000), emptyChanges());
    expect(name()).toBe('Early JSON');
    w.apply(nodeinfo('protobuf', 'Real name 2', 2, 4000), emptyChanges());
    expect(name()).toBe('Real name 2');
    expect(rows()).toBe(4);

    // A redelivered JSON reception is still one row.
    w.apply(nodeinfo('json', 'Early JSON', 2, 3000), emptyChanges());
    expect(rows()).toBe(4);
    // The gateway is listed among the agents as what it is.
    expect(db.prepare('SELECT source FROM agents WHERE agent = ?').get('gw-e2e52244')).toEqual({ source: 'mqtt' });
    db.close();
  });
});
