import { Counter, Gauge, type Registry } from 'prom-client';

/** The bridge's Prometheus metrics. `gateway` labels follow what brokers deliver: one series per MQTT gateway. */
export interface BridgeMetrics {
  messages: Counter<'broker' | 'gateway' | 'outcome'>;
  deadLetters: Counter<'broker' | 'reason'>;
  duplicates: Counter<'broker'>;
  connected: Gauge<'broker'>;
  reconnects: Counter<'broker'>;
  subscribes: Counter<'broker'>;
  silentRebuilds: Counter<'broker'>;
  backlog: Gauge;
  paused: Gauge;
}

export function createBridgeMetrics(registry: Registry): BridgeMetrics {
  const registers = [registry];
  return {
    messages: new Counter({
      name: 'mmm_mqtt_messages_total',
      help: 'MQTT messages by outcome: decoded, no_key, json, deadletter, ignored',
      labelNames: ['broker', 'gateway', 'outcome'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'mmm_mqtt_dead_letters_total',
      help: 'MQTT messages sent to mesh.v1.dlq.mqtt, by reason',
      labelNames: ['broker', 'reason'],
      registers,
    }),
    duplicates: new Counter({
      name: 'mmm_mqtt_duplicates_total',
      help: 'Receptions the site stream already held (same gateway, same packet)',
      labelNames: ['broker'],
      registers,
    }),
    connected: new Gauge({
      name: 'mmm_mqtt_connected',
      help: '1 while the broker connection is up',
      labelNames: ['broker'],
      registers,
    }),
    reconnects: new Counter({
      name: 'mmm_mqtt_reconnects_total',
      help: 'Reconnect attempts',
      labelNames: ['broker'],
      registers,
    }),
    subscribes: new Counter({
      name: 'mmm_mqtt_subscribes_total',
      help: 'Subscriptions made (one per successful connect)',
      labelNames: ['broker'],
      registers,
    }),
    silentRebuilds: new Counter({
      name: 'mmm_mqtt_silent_rebuilds_total',
      help: 'Connections rebuilt because they delivered nothing for silent_timeout',
      labelNames: ['broker'],
      registers,
    }),
    backlog: new Gauge({
      name: 'mmm_mqtt_publish_backlog',
      help: 'Events accepted but not yet stored by the leaf',
      registers,
    }),
    paused: new Gauge({ name: 'mmm_mqtt_paused', help: '1 while brokers are held back', registers }),
  };
}
