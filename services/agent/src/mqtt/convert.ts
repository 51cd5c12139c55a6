import { type MqttOrigin, msgIds, type Reception, subjects } from '@mmm/schemas';

type Origin = Omit<MqttOrigin, 'format' | 'unauthenticated'>;

import { readServiceEnvelope } from '../decode/envelope.js';
import type { ChannelKeyring } from '../decode/keyring.js';
import { receptionFromPacket } from '../decode/reception.js';
import { gatewayAgent } from './gateway.js';
import { receptionFromJson } from './json-uplink.js';
import { type MeshTopic, parseMeshTopic } from './topic.js';

/** Why an MQTT message became a dead letter: a short code for metrics, the reason text for the dead letter. */
export const DEAD_LETTER_CODES = [
  'bad_topic',
  'oversized',
  'not_envelope',
  'no_gateway',
  'unknown_channel',
  'bad_json',
] as const;
export type DeadLetterCode = (typeof DEAD_LETTER_CODES)[number];

/** Counted per gateway: decoded (plaintext or decrypted), no_key (kept as port `encrypted`), json (unauthenticated). */
export type ReceptionOutcome = 'decoded' | 'no_key' | 'json';

export type Converted =
  | {
      kind: 'reception';
      outcome: ReceptionOutcome;
      gateway: string;
      subject: string;
      msgId: string;
      event: Reception;
    }
  | { kind: 'deadletter'; code: DeadLetterCode; reason: string; gateway?: string }
  /** Gateway status (`<root>/2/stat/<gateway>`: online/offline), counted but not an event. */
  | { kind: 'ignored'; what: string; gateway?: string };

export interface ConvertContext {
  site: string;
  /** Broker name, stamped into `mqtt.broker`. */
  broker: string;
  keys: ChannelKeyring;
  maxPayload: number;
  /** Channels accepted from topics; empty = any. */
  channels: ReadonlySet<string>;
  receivedAt: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const dead = (code: DeadLetterCode, reason: string, gateway?: string): Converted => ({
  kind: 'deadletter',
  code,
  reason,
  ...(gateway ? { gateway } : {}),
});

/** `<root>/2/stat/<gateway>` carries the gateway's online/offline will; it is not a packet. */
function statTopic(topic: string, separator: string): string | undefined {
  const levels = topic.split(separator);
  const i = levels.lastIndexOf('stat');
  return i >= 1 && levels[i - 1] === '2' && i === levels.length - 2 ? levels[i + 1] : undefined;
}

/**
 * One MQTT message (topic and payload) into the event to publish or the dead letter to send. Pure and never
 * throws: the bridge and the nats-server MQTT listener path both call it.
 */
export function convertMqttMessage(
  topic: string,
  payload: Uint8Array,
  ctx: ConvertContext,
  separator: '/' | '.' = '/',
): Converted {
  try {
    return convert(topic, payload, ctx, separator);
  } catch (err) {
    // A broken invariant in the decoder must cost one message, never the bridge.
    return dead('not_envelope', `message could not be converted: ${(err as Error).message}`);
  }
}

function convert(topic: string, payload: Uint8Array, ctx: ConvertContext, separator: '/' | '.'): Converted {
  const stat = statTopic(topic, separator);
  if (stat !== undefined) return { kind: 'ignored', what: 'stat', gateway: stat };
  const parsed = parseMeshTopic(topic, separator);
  if (!parsed.ok) return dead('bad_topic', parsed.error);
  const t = parsed.value;
  if (payload.length > ctx.maxPayload) {
    return dead('oversized', `payload of ${payload.length} bytes exceeds max_payload ${ctx.maxPayload}`, t.gateway);
  }
  if (t.channel !== undefined && ctx.channels.size > 0 && !ctx.channels.has(t.channel)) {
    return dead('unknown_channel', `channel ${JSON.stringify(t.channel)} is not in channels`, t.gateway);
  }
  const origin: Origin = {
    broker: ctx.broker,
    topic: separator === '/' ? topic : topic.split(separator).join('/'),
    root: t.root,
    ...(t.region ? { region: t.region } : {}),
    ...(t.channel ? { channel: t.channel } : {}),
  };
  return t.kind === 'json' ? fromJson(t, payload, ctx, origin) : fromEnvelope(t, payload, ctx, origin);
}

function fromEnvelope(t: MeshTopic, payload: Uint8Array, ctx: ConvertContext, origin: Origin): Converted {
  const env = readServiceEnvelope(payload);
  if (!env.ok) return dead('not_envelope', env.error, t.gateway);
  const { packet, raw, channelId } = env.value;
  const gatewayId = env.value.gatewayId || t.gateway;
  if (!gatewayId) return dead('no_gateway', 'envelope names no gateway_id and the topic none either');
  if (t.channel !== undefined && channelId !== '' && channelId !== t.channel) {
    return dead(
      'unknown_channel',
      `envelope channel_id ${JSON.stringify(channelId)} differs from the topic's channel ${JSON.stringify(t.channel)}`,
      gatewayId,
    );
  }
  const agent = gatewayAgent(gatewayId);
  const event = receptionFromPacket(packet, raw, {
    site: ctx.site,
    agent,
    receivedAt: ctx.receivedAt,
    source: 'mqtt',
    keys: ctx.keys,
    gatewayId,
  });
  (event as { mqtt?: MqttOrigin }).mqtt = { ...origin, format: 'protobuf' };
  return {
    kind: 'reception',
    outcome: event.port === 'encrypted' ? 'no_key' : 'decoded',
    gateway: gatewayId,
    subject: subjects.rx(ctx.site, agent, event.port),
    msgId: msgIds.receptionOf(event),
    event,
  };
}

function fromJson(t: MeshTopic, payload: Uint8Array, ctx: ConvertContext, origin: Origin): Converted {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return dead('bad_json', 'JSON uplink is not UTF-8', t.gateway);
  }
  const gatewayFromTopic = t.gateway;
  const r = receptionFromJson(text, {
    site: ctx.site,
    agent: gatewayAgent(gatewayFromTopic ?? 'unknown'),
    receivedAt: ctx.receivedAt,
    source: 'mqtt',
    keys: ctx.keys,
  });
  if (!r.ok) return dead('bad_json', r.error, gatewayFromTopic);
  const event = r.value.reception;
  if (event.port === 'other' && 'error' in event.payload) {
    return dead('bad_json', `JSON uplink does not match its type: ${String(event.payload.error)}`, gatewayFromTopic);
  }
  const gatewayId = r.value.sender ?? gatewayFromTopic;
  if (!gatewayId) return dead('no_gateway', 'JSON uplink names no sender and the topic no gateway');
  const agent = gatewayAgent(gatewayId);
  const out = { ...event, agent, gatewayId, mqtt: { ...origin, format: 'json', unauthenticated: true } } as Reception;
  return {
    kind: 'reception',
    outcome: 'json',
    gateway: gatewayId,
    subject: subjects.rx(ctx.site, agent, out.port),
    // Its own id (`:json`): a gateway that uplinks both forms must not have its JSON copy dedupe the protobuf one away.
    msgId: msgIds.receptionOf(out),
    event: out,
  };
}
