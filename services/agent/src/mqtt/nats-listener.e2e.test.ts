import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Reception, streams, subjects } from '@mmm/schemas';
import { freePort, type NatsServer, startNatsServer, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelKeyring } from '../decode/keyring.js';
import { quietLog, readStream } from '../testing/test-stack.js';
import { type RunningBridge, startMqttBridge } from './bridge.js';
import { convertMqttMessage } from './convert.js';
import { parseMqttSettings } from './settings.js';
import { portEnvelopes } from './testing.js';

const execFileP = promisify(execFile);
const SITE = 'mqtt-leaf';

/**
 * A radio's MQTT module pointed straight at the site's leaf: nats-server's own MQTT listener (docs/mqtt.md), no
 * separate broker. The bridge reads it as an MQTT client with a persistent session (stored in the leaf's JetStream).
 */
describe("radios straight into the leaf: nats-server's MQTT listener", () => {
  let leaf: NatsServer;
  let mqttPort: number;
  let nc: NatsConnection;
  let bridge: RunningBridge;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mmm-mqtt-leaf-'));
    mqttPort = await freePort();
    leaf = await startNatsServer({
      name: `leaf-${SITE}`,
      domain: SITE,
      extraConfig: `mqtt {\n  listen: 127.0.0.1:${mqttPort}\n}`,
    });
    nc = await connect({ servers: leaf.url });
    bridge = await startMqttBridge(
      parseMqttSettings(`[nats]
url = ${leaf.url}
site = ${SITE}
[broker_leaf]
url = mqtt://127.0.0.1:${mqttPort}
topics = "msh/#"
`),
      { log: quietLog() },
    );
    await waitFor('the bridge to subscribe', () => bridge.sources[0]!.counters.subscribes > 0, 30_000);
  }, 60_000);
  afterAll(async () => {
    await bridge?.stop();
    await nc?.close();
    await leaf?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('turns what mosquitto_pub publishes to the leaf into receptions, the same as the msh.> subjects convert to', async () => {
    const envs = portEnvelopes();
    const seen: { subject: string; data: Uint8Array }[] = [];
    const sub = nc.subscribe('msh.>', { callback: (_e, m) => seen.push({ subject: m.subject, data: m.data }) });
    await nc.flush();
    for (const [i, e] of envs.entries()) {
      const file = join(dir, `e${i}.bin`);
      writeFileSync(file, e.bytes);
      await execFileP('mosquitto_pub', [
        '-h',
        '127.0.0.1',
        '-p',
        String(mqttPort),
        '-V',
        'mqttv311',
        '-q',
        '1',
        '-t',
        e.topic,
        '-f',
        file,
      ]);
    }
    const stored = await waitFor(
      'every envelope in the site stream',
      async () => {
        const ev = await readStream(nc, streams.site(SITE), subjects.rxFilter({ site: SITE }));
        return ev.length >= envs.length ? ev : undefined;
      },
      30_000,
      250,
    );
    expect(stored.length).toBe(envs.length);
    await waitFor('the subjects on the leaf', () => seen.length >= envs.length);
    sub.unsubscribe();
    // nats-server maps topic levels to subject tokens; the same conversion reads them.
    expect(seen[0]!.subject).toBe(envs[0]!.topic.split('/').join('.'));
    for (const s of seen) {
      const c = convertMqttMessage(
        s.subject,
        s.data,
        {
          site: SITE,
          broker: 'leaf',
          keys: new ChannelKeyring(),
          maxPayload: 16_384,
          channels: new Set(),
          receivedAt: 0,
        },
        '.',
      );
      expect(c.kind).toBe('reception');
      if (c.kind !== 'reception') continue;
      const got = stored.find((e) => e.msgId === c.msgId);
      expect(got, c.msgId).toBeDefined();
      const { receivedAt: _a, ...want } = c.event;
      const { receivedAt: _b, ...have } = got!.data as unknown as Reception;
      expect(have).toEqual(want);
    }
  }, 90_000);
});
