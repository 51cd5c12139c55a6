// Test helpers shared by the MQTT tests (not part of the public entry).
import { readFileSync } from 'node:fs';
import { fixturePath } from '@mmm/testkit';
import { readServiceEnvelope } from '../decode/envelope.js';

export interface FixtureEnvelope {
  b64: string;
  bytes: Buffer;
  /** The topic a gateway would have published it on (channel and gateway from the envelope), when it parses. */
  topic: string;
  label?: string;
}

function topicFor(bytes: Buffer, root: string): string {
  const env = readServiceEnvelope(bytes);
  const channel = env.ok && env.value.channelId ? env.value.channelId : 'LongFast';
  const gateway = env.ok && env.value.gatewayId ? env.value.gatewayId : '!00000000';
  return `${root}/2/e/${channel}/${gateway}`;
}

/** The 337 captured envelopes of the public LongFast feed (14 of them malformed), with their topics. */
export function feedEnvelopes(root = 'msh/EU_868'): FixtureEnvelope[] {
  return readFileSync(fixturePath('friendlydev_mqtt_serviceenvelopes.b64.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((b64) => {
      const bytes = Buffer.from(b64, 'base64');
      return { b64, bytes, topic: topicFor(bytes, root) };
    });
}

/** The 11 labelled envelopes, one per port (MAP_REPORT_APP among them). */
export function portEnvelopes(root = 'msh/EU_868'): FixtureEnvelope[] {
  return readFileSync(fixturePath('friendlydev_per_portnum_envelopes.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const o = JSON.parse(l) as { label: string; service_envelope_b64: string };
      const bytes = Buffer.from(o.service_envelope_b64, 'base64');
      return { b64: o.service_envelope_b64, bytes, topic: topicFor(bytes, root), label: o.label };
    });
}

/** The real firmware JSON uplink message (a nodeinfo whose long name ends in NULs). */
export function jsonNodeinfo(): string {
  return readFileSync(fixturePath('friendlydev_mqtt_json_nodeinfo.json'), 'utf8').trim();
}
