import { ConfigError } from '@mmm/common';
import { describe, expect, it } from 'vitest';
import { parseMqttSettings } from './settings.js';

const ini = (broker: string) => `[nats]\nsite = mqtt-x\n[broker_pub]\nurl = mqtt://127.0.0.1:1883\n${broker}`;

describe('mmm mqtt settings', () => {
  it('has the defaults the issue asks for: msh/#, QoS 1, a kept session, 5 minutes of silence', () => {
    const s = parseMqttSettings(ini(''), 'mqtt.ini', {});
    expect(s.brokers[0]).toMatchObject({
      name: 'pub',
      topics: ['msh/#'],
      qos: 1,
      clean: false,
      clientId: 'mmm-mqtt-x-pub',
      protocolVersion: 4,
      silentTimeoutMs: 300_000,
    });
    expect(parseMqttSettings(ini('topics = "msh/EU_868/#, msh/US/#"\nprotocol = 5'), 'f', {}).brokers[0]).toMatchObject(
      { topics: ['msh/EU_868/#', 'msh/US/#'], protocolVersion: 5 },
    );
  });

  it('names file, section and key of a problem', () => {
    const bad: [string, RegExp][] = [
      ['topics = msh/#', /\[broker_pub\] topics: .*# starts a comment in INI/],
      ['qos = 2', /\[broker_pub\] qos/],
      ['reconnect_min = 5\nreconnect_max = 1', /reconnect_max is below reconnect_min/],
      ['colour = blue', /colour/],
    ];
    for (const [extra, re] of bad) {
      expect(() => parseMqttSettings(ini(extra), 'mqtt.ini', {}), extra).toThrow(re);
    }
    expect(() => parseMqttSettings('[nats]\nsite = x\n', 'mqtt.ini', {})).toThrow(ConfigError);
    expect(() => parseMqttSettings('[nats]\nsite = x\n[broker_a]\nurl = http://x\n', 'mqtt.ini', {})).toThrow(
      /not an MQTT URL/,
    );
  });
});
