import { defineConfig, logSection, natsTlsFields, openTelemetrySection } from '@mmm/common';
import { jsonTcpLogSection } from './json-tcp-log.js';

/** Default Meshtastic TCP API port. */
export const DEFAULT_TCP_PORT = 4403;
/** Firmware accepts one traceroute per ~30 s; faster requests are dropped by the radio. */
export const FIRMWARE_TRACE_MIN_S = 30;

/**
 * The agent's INI. Everything the original's `multi_agent_config.ini` holds loads unchanged; `[nats]` and the
 * `[meshtastic] tcp_port` / `channel_keys` keys are new. Unlike the original, `[server_*]` sections are optional.
 */
export const agentConfigSpec = defineConfig({
  sections: {
    agent: {
      description: 'This agent',
      required: true,
      fields: {
        id: { type: 'string', required: true, description: 'Agent id (letters, digits, _ and -); a subject token' },
        location_name: { type: 'string', required: true, description: 'Human label of where the radio is' },
        location_lat: { type: 'number', min: -90, max: 90, description: 'Latitude of the agent (degrees)' },
        location_lon: { type: 'number', min: -180, max: 180, description: 'Longitude of the agent (degrees)' },
        database_dir: {
          type: 'string',
          default: '.',
          description: "The original's buffer directory; unused (the site stream is the buffer)",
        },
        priority_nodes: {
          type: 'list',
          default: [],
          description: 'Comma list of !xxxxxxxx node ids traced more often',
        },
        priority_check_interval: {
          type: 'int',
          default: 300,
          min: 10,
          unit: 's',
          description: 'How often priority nodes are checked',
        },
        priority_cache_duration: {
          type: 'number',
          default: 12,
          min: 0,
          unit: 'h',
          description: 'Route cache lifetime for priority nodes',
        },
      },
    },
    meshtastic: {
      description: 'The radio connection',
      required: true,
      fields: {
        connection_type: {
          type: 'string',
          default: 'auto',
          choices: ['auto', 'serial', 'tcp', 'ble'],
          description:
            'serial, tcp, or auto (device_path, else tcp_host, else scan serial ports); ble is not supported, see docs/agent.md',
        },
        device_path: { type: 'string', description: 'Serial device, e.g. /dev/ttyUSB0' },
        tcp_host: { type: 'string', description: 'Radio host for the TCP API, host or host:port' },
        tcp_port: {
          type: 'int',
          default: 4403,
          min: 1,
          max: 65535,
          description: 'Radio TCP API port (when tcp_host has none)',
        },
        ble_address: { type: 'string', description: 'BLE address (not supported: use a BLE-to-TCP bridge)' },
        baud_rate: { type: 'int', default: 115200, min: 1200, description: 'Serial speed' },
        channel_keys: {
          type: 'list',
          default: [],
          description:
            'Extra channel keys as name:base64psk, comma-separated (the radio reports its own channels on connect)',
        },
        heartbeat_interval: {
          type: 'int',
          default: 30,
          min: 1,
          max: 59,
          unit: 's',
          description: 'Heartbeat to the radio (< 60 s idle timeout)',
        },
        reconnect_max: {
          type: 'int',
          default: 30,
          min: 1,
          unit: 's',
          description: 'Longest wait between reconnect attempts',
        },
        stall_timeout: {
          type: 'int',
          default: 120,
          min: 5,
          unit: 's',
          description: 'Reconnect when no frame arrived for this long',
        },
      },
    },
    nats: {
      description: 'The site leaf nats-server this agent publishes to',
      fields: {
        url: { type: 'string', default: 'nats://127.0.0.1:4222', description: 'Leaf server URL(s), comma-separated' },
        user: { type: 'string', description: 'User name (with password)' },
        password: { type: 'string', description: 'Password', secret: true },
        token: { type: 'string', description: 'Auth token', secret: true },
        creds: { type: 'string', description: 'Path of a .creds file (JWT + nkey seed)' },
        inbox_prefix: {
          type: 'string',
          description: 'Reply subject prefix (e.g. _INBOX_<site>.<agent>, as mmm creds writes it); default _INBOX',
        },
        ...natsTlsFields,
        site: {
          type: 'string',
          default: 'site1',
          description: "Site id: the leaf's JetStream domain and the subject token",
        },
        hub_domain: {
          type: 'string',
          default: 'hub',
          description:
            "The hub's JetStream domain: status events say whether the hub answers through the leaf and how many of the site stream's messages its sourcing has still to take; empty = do not ask",
        },
        max_backlog: {
          type: 'int',
          default: 256,
          min: 10,
          description: 'Unacked publishes before reading the radio pauses',
        },
        stream_max_age: {
          type: 'number',
          default: 0,
          min: 0,
          unit: 'h',
          description: 'Site stream retention (0 = keep until limits)',
        },
        stream_max_bytes: {
          type: 'int',
          default: -1,
          min: -1,
          unit: 'bytes',
          description: 'Site stream size limit (-1 = none)',
        },
      },
    },
    route_discovery: {
      description: 'Traceroute scheduler',
      fields: {
        enabled: { type: 'bool', default: true, description: 'Run traceroutes' },
        interval_minutes: { type: 'number', default: 60, min: 1, unit: 'min', description: 'Sweep period' },
        hop_limit: { type: 'int', default: 7, min: 1, max: 7, description: 'Hop limit of traceroute requests' },
        delay_between_traces: {
          type: 'number',
          default: 30,
          min: 0,
          unit: 's',
          description: 'Gap between traceroutes (never below the firmware minimum of 30 s)',
        },
        max_per_cycle: { type: 'int', default: 20, min: 1, description: 'Most nodes traced per sweep' },
        recent_hours: {
          type: 'number',
          default: 2,
          min: 0.01,
          unit: 'h',
          description: 'Only nodes heard this recently are swept',
        },
        cache_hours: {
          type: 'number',
          default: 24,
          min: 0,
          unit: 'h',
          description: 'Route cache lifetime for other nodes',
        },
        timeout: {
          type: 'int',
          default: 60,
          min: 5,
          unit: 's',
          description: 'Wait for a reply before recording a timeout',
        },
      },
    },
    nodedb: {
      description: 'Node-DB snapshots',
      fields: {
        interval_minutes: { type: 'number', default: 15, min: 0.05, unit: 'min', description: 'Snapshot cadence' },
        change_debounce: {
          type: 'int',
          default: 10,
          min: 0,
          unit: 's',
          description: 'Quiet time after a change before a snapshot',
        },
      },
    },
    status: {
      description: 'Agent status heartbeat',
      fields: {
        interval: { type: 'int', default: 30, min: 1, unit: 's', description: 'Status event period' },
        ops_port: {
          type: 'int',
          min: 0,
          max: 65535,
          description: 'Serve /healthz, /readyz, /metrics on this loopback port',
        },
      },
    },
    log: logSection,
    opentelemetry: openTelemetrySection,
  },
  prefixed: {
    server_: {
      description: "The original's HTTP server, fed from the site stream during a migration",
      fields: {
        url: { type: 'string', required: true, description: 'Base URL; /api/agent/... is appended' },
        api_key: { type: 'string', required: true, description: 'Sent as X-API-Key', secret: true },
        enabled: { type: 'bool', default: true, description: 'Send to this server' },
        report_interval: { type: 'int', default: 30, min: 1, unit: 's', description: 'Period of sending' },
        packet_types: {
          type: 'list',
          default: ['all'],
          description: 'all, or text_message, position, telemetry, user_info, routing, traceroute, encrypted, other',
        },
        priority: { type: 'int', default: 1, description: 'Informational (as in the original)' },
        max_retries: {
          type: 'int',
          default: 3,
          min: 1,
          description: 'Failures in a row before the server counts as unhealthy',
        },
        timeout: { type: 'number', default: 10, min: 0.1, unit: 's', description: 'Per-request timeout' },
        filter_nodes: {
          type: 'list',
          default: [],
          description: 'Only these !xxxxxxxx nodes (packets, nodedb, routes)',
        },
        exclude_nodes: {
          type: 'list',
          default: [],
          description: 'Never these !xxxxxxxx nodes (packets, nodedb, routes)',
        },
        batch_size: { type: 'int', default: 100, min: 1, max: 5000, description: 'Stream messages per request' },
      },
    },
    json_tcp_log_: jsonTcpLogSection,
  },
});
