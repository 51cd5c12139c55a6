import { defineConfig, logSection, natsTlsFields } from '@mmm/common';

/** Meshtastic envelopes are a few hundred bytes; JSON uplink a little more. Anything far larger is not one. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16_384;
/** A connection that delivers nothing for this long is rebuilt (a public feed is never quiet for minutes). */
export const DEFAULT_SILENT_TIMEOUT_S = 300;

/**
 * `mmm mqtt`'s INI: the leaf it publishes to (`[nats]`, as the agent's), channel keys, and one `[broker_<name>]`
 * section per MQTT broker.
 */
export const mqttConfigSpec = defineConfig({
  sections: {
    nats: {
      description: 'The site leaf nats-server the bridge publishes to',
      fields: {
        url: { type: 'string', default: 'nats://127.0.0.1:4222', description: 'Leaf server URL(s), comma-separated' },
        user: { type: 'string', description: 'User name (with password)' },
        password: { type: 'string', description: 'Password', secret: true },
        token: { type: 'string', description: 'Auth token', secret: true },
        creds: { type: 'string', description: 'Path of a .creds file (JWT + nkey seed)' },
        inbox_prefix: { type: 'string', description: 'Reply subject prefix; default _INBOX' },
        ...natsTlsFields,
        site: {
          type: 'string',
          required: true,
          description: "Site id of the leaf (its JetStream domain); gateways become this site's agents",
        },
        max_backlog: {
          type: 'int',
          // Each held event costs a few KB; beyond the publish window they only wait, and the broker keeps the rest.
          default: 1_000,
          min: 10,
          description: 'Envelopes accepted but not yet stored before the brokers are held back (QoS 1 flow control)',
        },
        stream_max_age: { type: 'number', default: 0, min: 0, unit: 'h', description: 'Site stream retention' },
        stream_max_bytes: { type: 'int', default: -1, min: -1, unit: 'bytes', description: 'Site stream size limit' },
      },
    },
    meshtastic: {
      description: 'Decoding',
      fields: {
        channel_keys: {
          type: 'list',
          default: [],
          description: 'Channel keys as name:base64psk, comma-separated (the default key AQ== is built in)',
        },
        max_payload: {
          type: 'int',
          default: DEFAULT_MAX_PAYLOAD_BYTES,
          min: 64,
          unit: 'bytes',
          description: 'Larger MQTT payloads are dead letters',
        },
      },
    },
    status: {
      description: 'Operations',
      fields: {
        ops_port: { type: 'int', min: 0, max: 65535, description: 'Serve /healthz, /readyz, /metrics on this port' },
      },
    },
    log: logSection,
  },
  prefixed: {
    broker_: {
      description: 'One MQTT broker to subscribe to',
      min: 1,
      fields: {
        url: {
          type: 'string',
          required: true,
          description: 'mqtt://host:1883, mqtts://host:8883, ws:// or wss://',
        },
        topics: { type: 'list', default: ['msh/#'], description: 'Topic filters, comma-separated' },
        username: { type: 'string', description: 'User name' },
        password: { type: 'string', description: 'Password', secret: true },
        client_id: {
          type: 'string',
          description: 'Client id; keep it stable so the broker keeps the session (default mmm-<site>-<broker>)',
        },
        protocol: { type: 'string', default: '3.1.1', choices: ['3.1.1', '5'], description: 'MQTT version' },
        qos: { type: 'int', default: 1, min: 0, max: 1, description: 'Subscription QoS (1 where the broker allows)' },
        clean: {
          type: 'bool',
          default: false,
          description: 'Start a clean session (false: the broker queues QoS 1 messages while the bridge is away)',
        },
        keepalive: { type: 'int', default: 30, min: 5, unit: 's', description: 'MQTT keepalive' },
        connect_timeout: { type: 'int', default: 10, min: 1, unit: 's', description: 'Connect timeout' },
        reconnect_min: { type: 'number', default: 0.5, min: 0.05, unit: 's', description: 'First reconnect wait' },
        reconnect_max: { type: 'number', default: 30, min: 0.1, unit: 's', description: 'Longest reconnect wait' },
        silent_timeout: {
          type: 'number',
          default: DEFAULT_SILENT_TIMEOUT_S,
          min: 0.5,
          unit: 's',
          description: 'Rebuild a connection that delivered nothing for this long',
        },
        channels: {
          type: 'list',
          default: [],
          description: 'Channel names accepted from topics (empty: any); others are dead letters',
        },
        tls_ca: { type: 'string', description: 'CA file to verify the broker with' },
        tls_cert: { type: 'string', description: 'Client certificate file' },
        tls_key: { type: 'string', description: 'Client key file' },
        tls_insecure: { type: 'bool', default: false, description: 'Do not verify the broker certificate' },
      },
    },
  },
});
