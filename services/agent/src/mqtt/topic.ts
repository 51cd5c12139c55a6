/**
 * Meshtastic MQTT topics: `<root>/2/<kind>/<channel>/<gateway>` for envelopes (`e`, and `c` before firmware 2.3)
 * and JSON (`json`), `<root>/2/map/…` for map reports. The root is set per radio (`msh/EU_868`, `msh/US/TX`, …),
 * so the `2` that marks the protocol version is searched for, never assumed at a fixed level.
 */
export type TopicKind = 'envelope' | 'json' | 'map';

export interface MeshTopic {
  readonly kind: TopicKind;
  /** Everything before `/2/`, e.g. `msh/US/TX`. */
  readonly root: string;
  /** The level after `msh`, when the root starts with it (`EU_868`, `US`). */
  readonly region?: string;
  readonly channel?: string;
  /** The last level of envelope and JSON topics, e.g. `!55c76a9c`. */
  readonly gateway?: string;
}

export type TopicResult = { ok: true; value: MeshTopic } | { ok: false; error: string };

const KINDS: Record<string, TopicKind> = { e: 'envelope', c: 'envelope', json: 'json', map: 'map' };

/** Splits a topic (`/` as in MQTT, or `.` as nats-server's MQTT listener turns it into a subject). */
export function parseMeshTopic(topic: string, separator: '/' | '.' = '/'): TopicResult {
  const levels = topic.split(separator);
  // The last `2` followed by a known kind: a root level may itself be "2" (unlikely, but never assumed away).
  let at = -1;
  for (let i = levels.length - 2; i >= 1; i--) {
    if (levels[i] === '2' && KINDS[levels[i + 1]!] !== undefined) {
      at = i;
      break;
    }
  }
  if (at < 0)
    return { ok: false, error: `topic ${JSON.stringify(topic)} is not a Meshtastic <root>/2/{e,c,json,map}/… topic` };
  const kind = KINDS[levels[at + 1]!]!;
  const root = levels.slice(0, at).join('/');
  const region = levels[0] === 'msh' && at > 1 ? levels[1] : undefined;
  const rest = levels.slice(at + 2);
  if (kind === 'map') return { ok: true, value: { kind, root, ...(region ? { region } : {}) } };
  if (rest.length !== 2 || !rest[0] || !rest[1]) {
    return { ok: false, error: `topic ${JSON.stringify(topic)} does not end in <channel>/<gateway id>` };
  }
  return { ok: true, value: { kind, root, ...(region ? { region } : {}), channel: rest[0], gateway: rest[1] } };
}
