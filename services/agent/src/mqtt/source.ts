import { readFileSync } from 'node:fs';
import type { Logger } from '@mmm/common';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { BrokerSettings } from './settings.js';

export type BrokerState = 'connecting' | 'connected' | 'offline' | 'closed';

export interface MqttSourceEvents {
  /**
   * One message. `done` lets the client read the next packet (and, for QoS 1, sends the PUBACK): call it at once
   * while there is room, or later to hold the broker back (QoS 1 flow control) instead of queueing without bound.
   */
  onMessage(topic: string, payload: Buffer, done: () => void): void;
  onState(state: BrokerState): void;
}

export interface SourceCounters {
  messages: number;
  connects: number;
  reconnects: number;
  subscribes: number;
  subscribeErrors: number;
  silentRebuilds: number;
  errors: number;
}

/**
 * One broker connection. Subscriptions are made in the connect handler on every (re)connect, never left to the
 * client's memory of a session the broker may have lost; a connection that stays up but delivers nothing for
 * `silentTimeoutMs` is torn down and rebuilt (a silent connection cost a peer twelve days of data); reconnects
 * back off from `reconnectMinMs` to `reconnectMaxMs`.
 */
export class MqttSource {
  state: BrokerState = 'connecting';
  readonly counters: SourceCounters = {
    messages: 0,
    connects: 0,
    reconnects: 0,
    subscribes: 0,
    subscribeErrors: 0,
    silentRebuilds: 0,
    errors: 0,
  };
  lastMessageAt = Date.now();
  /** Set while the bridge holds a message back: a paused source is quiet on purpose. */
  paused = false;
  private client: MqttClient | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    readonly settings: BrokerSettings,
    private readonly events: MqttSourceEvents,
    log: Logger,
  ) {
    this.log = log.child({ broker: settings.name });
  }

  start(): void {
    const s = this.settings;
    const client = mqtt.connect(s.url, this.clientOptions());
    this.client = client;
    client.handleMessage = (packet, callback) => {
      this.counters.messages++;
      this.lastMessageAt = Date.now();
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      this.events.onMessage(packet.topic, payload, () => callback());
    };
    client.on('connect', (ack) => {
      this.counters.connects++;
      client.options.reconnectPeriod = s.reconnectMinMs;
      this.lastMessageAt = Date.now();
      this.setState('connected');
      this.log.info({ sessionPresent: ack.sessionPresent }, 'MQTT broker connected');
      this.subscribe(client);
    });
    client.on('reconnect', () => {
      this.counters.reconnects++;
      this.setState('connecting');
    });
    client.on('close', () => {
      if (this.state === 'closed') return;
      // Back off: each failed attempt doubles the wait, up to the maximum; a successful connect resets it.
      client.options.reconnectPeriod = Math.min(s.reconnectMaxMs, (client.options.reconnectPeriod ?? 1000) * 2);
      this.setState('offline');
    });
    client.on('error', (err) => {
      this.counters.errors++;
      this.log.warn({ err: err.message }, 'MQTT client error');
    });
    this.watchdog = setInterval(() => this.checkSilence(), Math.max(100, Math.min(10_000, s.silentTimeoutMs / 4)));
    this.watchdog.unref();
  }

  private clientOptions(): IClientOptions {
    const s = this.settings;
    const tls = s.tls;
    return {
      clientId: s.clientId,
      protocolVersion: s.protocolVersion,
      clean: s.clean,
      username: s.username,
      password: s.password,
      keepalive: s.keepaliveS,
      connectTimeout: s.connectTimeoutMs,
      reconnectPeriod: s.reconnectMinMs,
      // Subscriptions are made in the connect handler, every time (see the class comment).
      resubscribe: false,
      ...(tls
        ? {
            ca: tls.ca ? readFileSync(tls.ca) : undefined,
            cert: tls.cert ? readFileSync(tls.cert) : undefined,
            key: tls.key ? readFileSync(tls.key) : undefined,
            rejectUnauthorized: !tls.insecure,
          }
        : {}),
    };
  }

  private subscribe(client: MqttClient): void {
    const filters = Object.fromEntries(this.settings.topics.map((t) => [t, { qos: this.settings.qos }]));
    client.subscribe(filters, (err, granted) => {
      if (err) {
        this.counters.subscribeErrors++;
        this.log.error({ err: err.message, topics: this.settings.topics }, 'MQTT subscribe failed; rebuilding');
        client.stream?.destroy();
        return;
      }
      this.counters.subscribes++;
      // 128 (0x80) is the broker's refusal of one filter: say which, the others still deliver.
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (refused.length > 0) {
        this.counters.subscribeErrors++;
        this.log.error({ refused }, 'MQTT broker refused topic filters');
      }
      this.log.info({ granted: granted?.map((g) => `${g.topic}@${g.qos}`) }, 'MQTT subscribed');
    });
  }

  private checkSilence(): void {
    const client = this.client;
    if (!client || this.state !== 'connected' || this.paused) return;
    const quietMs = Date.now() - this.lastMessageAt;
    if (quietMs < this.settings.silentTimeoutMs) return;
    this.counters.silentRebuilds++;
    this.log.warn({ quietMs }, 'MQTT connection delivered nothing for silent_timeout: rebuilding it');
    this.lastMessageAt = Date.now();
    // Destroying the socket is what a dead link looks like to the client: it reconnects and subscribes afresh.
    client.stream?.destroy();
  }

  private setState(state: BrokerState): void {
    if (this.state === state || this.state === 'closed') return;
    this.state = state;
    this.events.onState(state);
  }

  async stop(): Promise<void> {
    clearInterval(this.watchdog);
    this.state = 'closed';
    const client = this.client;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        client.end(true);
        resolve();
      }, 2_000);
      client.end(false, {}, () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
