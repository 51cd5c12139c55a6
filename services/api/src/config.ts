import {
  type ConfigValue,
  defineConfig,
  jsonTcpLogPrefixed,
  logSection,
  natsSection,
  openTelemetrySection,
} from '@mmm/common';

/** The original server's body limit (aiohttp's default): a 100-packet body is ~40 KB, so this is generous. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_KEEP_HOURS = 72;
export const DEFAULT_LIVE_QUEUE = 1000;
/** Wrong tokens per address and window: enough for a typo or two after a rotation, far too few to guess. */
export const DEFAULT_AUTH_FAIL_LIMIT = 10;
export const DEFAULT_AUTH_FAIL_WINDOW_S = 60;

export const apiConfigSpec = defineConfig({
  // [json_tcp_log_<name>] log shipping, as in the original (docs/operations.md).
  prefixed: { ...jsonTcpLogPrefixed },
  sections: {
    server: {
      description: 'HTTP server',
      fields: {
        host: { type: 'string', default: '127.0.0.1', description: 'Bind address' },
        port: { type: 'int', default: 8082, min: 0, max: 65535, description: 'Port' },
        site_name: { type: 'string', default: 'MeshyMcMapface', description: 'Name shown by the web app' },
        instance_id: {
          type: 'string',
          default: 'api',
          description: "Names this instance's durable consumers (api-<id>); give each API instance its own",
        },
        body_limit: {
          type: 'int',
          default: DEFAULT_BODY_LIMIT_BYTES,
          min: 1024,
          description: 'Largest request body',
          unit: 'bytes',
        },
      },
    },
    map: {
      description: 'Initial map view and basemap',
      fields: {
        center_lat: { type: 'number', default: 39.8283, min: -90, max: 90, description: 'Map centre latitude' },
        center_lon: { type: 'number', default: -98.5795, min: -180, max: 180, description: 'Map centre longitude' },
        zoom_level: { type: 'int', default: 4, min: 0, max: 22, description: 'Initial zoom' },
        force_center: { type: 'bool', default: false, description: 'Do not auto-fit the map to the markers' },
        tile_url: {
          type: 'string',
          default: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
          description: 'Raster tile URL template',
        },
        tile_attribution: {
          type: 'string',
          default: '© OpenStreetMap contributors',
          description: 'Attribution shown on the map',
        },
      },
    },
    api_keys: {
      description: 'Legacy agent API keys: <agent_id> = <key>; a key may only write as its own agent id',
      fields: {},
      freeform: { type: 'string', description: 'API key' },
    },
    auth: {
      description: 'Access tokens (docs/api.md "Access control"); the legacy agent API always needs a key',
      fields: {
        read_tokens: {
          type: 'list',
          default: [],
          description: 'Read tokens; with neither these nor tokens_file, reads are open',
        },
        tokens_file: {
          type: 'string',
          description: 'Scoped tokens, one "<scopes> <token>" a line; re-read on SIGHUP and when the file changes',
        },
        watch: {
          type: 'bool',
          default: true,
          description: 'Re-read tokens_file when it changes (SIGHUP always re-reads it)',
        },
        metrics: {
          type: 'string',
          default: 'open',
          choices: ['open', 'token'],
          description: '/metrics: open, or a token with scope metrics',
        },
        alerts_write: {
          type: 'string',
          default: 'token',
          choices: ['token', 'open'],
          description:
            'Acknowledging, silencing and editing alert rules: a token with scope alerts-write, or open (a local trial bound to 127.0.0.1, as mmm up writes)',
        },
        trust_proxy: {
          type: 'list',
          default: [],
          description: 'Addresses/CIDRs of load balancers whose X-Forwarded-For names the client; empty = none',
        },
        fail_limit: {
          type: 'int',
          default: DEFAULT_AUTH_FAIL_LIMIT,
          min: 1,
          description: 'Wrong tokens per client address per window before it is answered 429',
        },
        fail_window_s: {
          type: 'number',
          default: DEFAULT_AUTH_FAIL_WINDOW_S,
          min: 0.1,
          description: 'Window for fail_limit',
          unit: 's',
        },
      },
    },
    nats: natsSection,
    database: {
      description: "The API's own SQLite projection of the stream",
      fields: {
        path: { type: 'string', default: './data/api.db', description: 'SQLite file' },
        keep_hours: {
          type: 'int',
          default: DEFAULT_KEEP_HOURS,
          min: 1,
          max: 24 * 366,
          description: 'Receptions kept',
          unit: 'hours',
        },
      },
    },
    clickhouse: {
      description: 'History from ClickHouse (written by mmm ingest) when url is set',
      fields: {
        url: { type: 'string', description: 'HTTP URL, e.g. http://127.0.0.1:8123' },
        database: { type: 'string', default: 'mmm', description: 'Database' },
        user: { type: 'string', description: 'User' },
        password: { type: 'string', description: 'Password', secret: true },
      },
    },
    history: {
      description: 'History from the SQLite history DB of mmm ingest (when ClickHouse is not set)',
      fields: {
        sqlite_path: { type: 'string', default: './data/history.db', description: 'SQLite file written by mmm ingest' },
      },
    },
    web: {
      description: 'The built web app',
      fields: {
        dir: { type: 'string', description: 'Directory with index.html (default: web/dist of the repository)' },
      },
    },
    legacy: {
      description: "The original agents' HTTP API",
      fields: { site: { type: 'string', default: 'legacy', description: 'Site id under which legacy agents publish' } },
    },
    live: {
      description: 'Live WebSocket feed',
      fields: {
        queue_max: {
          type: 'int',
          default: DEFAULT_LIVE_QUEUE,
          min: 10,
          description: 'Messages queued per client before it is resynced',
        },
        node_rate_hz: {
          type: 'number',
          default: 4,
          min: 0.1,
          max: 100,
          description: 'Updates per node per second',
          unit: 'Hz',
        },
        heartbeat_s: { type: 'number', default: 15, min: 0.05, description: 'Heartbeat and ping interval', unit: 's' },
      },
    },
    log: logSection,
    opentelemetry: openTelemetrySection,
  },
});

export type ApiConfig = ConfigValue<typeof apiConfigSpec>;
