import { assertEvent, PORTNUM, type Reception, subjects } from '@mmm/schemas';
import { mulberry32, type SimEvent } from './sim-hour.js';

const AGENTS = [
  { site: 's1', agent: 'a1' },
  { site: 's1', agent: 'a2' },
  { site: 's2', agent: 'b1' },
] as const;

/**
 * `count` position receptions (about 1.5 per packet: some packets are heard by two agents), for load and fault tests.
 * Every event is a valid contract event; the first is checked against the schema.
 */
export function bulkReceptions(count: number, base: number, seed = 1, firstPacketId = 1): SimEvent[] {
  const rnd = mulberry32(seed);
  const out: SimEvent[] = [];
  // Calls that must not share packets (say, two runs into the same store) pass different first ids.
  let id = firstPacketId;
  while (out.length < count) {
    const from = 0x20000000 + Math.floor(rnd() * 500);
    const t = base + out.length * 50;
    const hearers = rnd() < 0.5 && out.length + 2 <= count ? [AGENTS[0], AGENTS[2]] : [AGENTS[Math.floor(rnd() * 3)]!];
    for (const a of hearers) {
      const receivedAt = t + Math.floor(rnd() * 300);
      const event = {
        v: 1 as const,
        kind: 'reception' as const,
        site: a.site,
        agent: a.agent,
        receivedAt,
        source: 'radio' as const,
        port: 'position' as const,
        packet: {
          from,
          to: 0xffffffff,
          id,
          channel: 0,
          rxTime: Math.floor(receivedAt / 1000),
          rxSnr: Math.round(rnd() * 80 - 40) / 4,
          rxRssi: -60 - Math.floor(rnd() * 60),
          hopStart: 3,
          hopLimit: Math.floor(rnd() * 4),
          relayNode: 0,
          nextHop: 0,
          wantAck: false,
          viaMqtt: false,
          priority: 64,
          pkiEncrypted: false,
        },
        encryption: 'decrypted' as const,
        data: {
          portnum: PORTNUM.POSITION_APP,
          wantResponse: false,
          dest: 0,
          source: 0,
          requestId: 0,
          replyId: 0,
          emoji: 0,
        },
        payload: {
          latitudeI: 520_000_000 + id,
          longitudeI: 134_000_000 + id,
          altitude: 40,
          time: Math.floor(t / 1000),
        },
        raw: 'AAECAwQF',
      } as unknown as Reception;
      if (out.length === 0) assertEvent(event);
      out.push({ subject: subjects.rx(a.site, a.agent, 'position'), event, at: receivedAt });
    }
    id++;
  }
  return out;
}
