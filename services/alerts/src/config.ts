import {
  ConfigError,
  type ConfigValue,
  defineConfig,
  jsonTcpLogPrefixed,
  loadConfig,
  logSection,
  natsSection,
  openTelemetrySection,
  parseConfig,
} from '@mmm/common';
import {
  ALERT_RULE_KINDS,
  type AlertRule,
  consumers,
  RESERVED_SITES,
  tokenProblem,
  validateAlertRule,
} from '@mmm/schemas';

export const DEFAULT_DURABLE = consumers.alerts;
export const DEFAULT_OPS_PORT = 9475;
export const DEFAULT_FLUSH_INTERVAL_MS = 100;
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 2000;
export const DEFAULT_SWEEP_INTERVAL_MS = 1000;
export const DEFAULT_KEEP_RESOLVED_S = 7 * 24 * 3600;
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** A notification still undelivered after this long is given up (and counted as failed). */
export const DEFAULT_WEBHOOK_MAX_AGE_S = 24 * 3600;
export const DEFAULT_BACKOFF_MAX_MS = 60_000;

const seconds = (description: string) => ({ type: 'int', min: 0, unit: 's', description }) as const;

/** `[rule_<name>]`: one alert rule. The keys are those of the API's rule JSON (schemas: AlertRule). */
export const ruleSection = {
  description: 'An alert rule (docs/alerts.md lists the kinds and what duration and threshold mean for each)',
  fields: {
    kind: { type: 'string', required: true, choices: ALERT_RULE_KINDS, description: 'What the rule watches' },
    duration: seconds('How long the condition must hold before firing; for event kinds, how long the alert stays'),
    threshold: {
      type: 'number',
      min: 0,
      description: 'battery_low / channel_util_high: percent; node_moved: metres; hub_backlog: events',
    },
    hysteresis: { type: 'number', min: 0, description: 'Percentage points past the threshold needed to resolve' },
    pattern: { type: 'string', description: 'text_match: regular expression, case-insensitive' },
    to_nodes: { type: 'list', description: 'text_match: also messages addressed to these nodes (!xxxxxxxx)' },
    nodes: { type: 'list', description: 'Only these nodes (!xxxxxxxx); empty: all' },
    sites: { type: 'list', description: 'Only nodes heard at / agents of these sites; empty: all' },
    agents: { type: 'list', description: 'Only nodes last heard by / these agents; empty: all' },
    roles: { type: 'list', description: 'Only nodes of these roles (ROUTER, CLIENT, ...); empty: all' },
    min_firing: seconds('An alert stays firing at least this long, so a flapping condition does not flap it'),
    renotify: seconds('Notify again this often while firing and not acknowledged (0: never)'),
    notify: { type: 'list', description: 'Webhook names to notify; empty: every webhook' },
    notify_resolved: { type: 'bool', description: 'Notify when it resolves (default: yes, except for event kinds)' },
    enabled: { type: 'bool', default: true, description: 'Evaluate it at all' },
  },
} as const;

export const WEBHOOK_FORMATS = ['generic', 'ntfy', 'discord', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** How a notification target retries: webhooks and mesh texts alike, through the outbox. */
const retryFields = {
  max_age: {
    type: 'int',
    default: DEFAULT_WEBHOOK_MAX_AGE_S,
    min: 1,
    unit: 's',
    description: 'Retry (with backoff) this long, then give up and count it failed',
  },
  backoff_max: {
    type: 'int',
    default: DEFAULT_BACKOFF_MAX_MS,
    min: 100,
    unit: 'ms',
    description: 'Longest wait between two attempts (the wait doubles from 1 s up to this)',
  },
} as const;

/** `[webhook_<name>]`: an HTTP endpoint notified of alerts. */
export const webhookSection = {
  description: 'A webhook notified when alerts fire and resolve',
  fields: {
    url: { type: 'string', required: true, description: 'Where to POST' },
    format: {
      type: 'string',
      default: 'generic',
      choices: WEBHOOK_FORMATS,
      description: 'Body: generic JSON, or ready for ntfy, Discord or Slack incoming webhooks',
    },
    rules: { type: 'list', description: 'Only alerts of these rules; empty: every rule' },
    authorization: { type: 'string', secret: true, description: 'Sent as the Authorization header' },
    timeout: {
      type: 'int',
      default: DEFAULT_WEBHOOK_TIMEOUT_MS,
      min: 100,
      unit: 'ms',
      description: 'Per request',
    },
    ...retryFields,
  },
} as const;

/** Between two texts of one mesh target: air time is shared by everyone on the channel. */
export const DEFAULT_MESH_MIN_INTERVAL_S = 300;
const DEFAULT_MESH_TIMEOUT_MS = 5_000;

/** `[mesh_<name>]`: a text message through an agent's radio, for the listed rules only (no section: no messages). */
export const meshSection = {
  description: "A text message sent to the mesh through an agent's radio when alerts of the listed rules fire",
  fields: {
    site: { type: 'string', required: true, description: 'Site of the agent whose radio sends' },
    agent: { type: 'string', required: true, description: 'Agent whose radio sends' },
    to: { type: 'string', description: 'Node id !xxxxxxxx to send to; absent: broadcast on the channel' },
    channel: { type: 'int', default: 0, min: 0, max: 7, description: 'Channel index' },
    rules: { type: 'list', description: 'Only alerts of these rules (required: no rules, no messages)' },
    min_interval: {
      type: 'int',
      default: DEFAULT_MESH_MIN_INTERVAL_S,
      min: 0,
      unit: 's',
      description: 'Least time between two texts of this target; notifications inside it are dropped and counted',
    },
    timeout: { type: 'int', default: DEFAULT_MESH_TIMEOUT_MS, min: 100, unit: 'ms', description: 'Per request' },
    ...retryFields,
  },
} as const;

export const alertsConfig = defineConfig({
  prefixed: { ...jsonTcpLogPrefixed, rule_: ruleSection, webhook_: webhookSection, mesh_: meshSection },
  sections: {
    nats: natsSection,
    log: logSection,
    opentelemetry: openTelemetrySection,
    alerts: {
      description: 'The alerts service: what it reads, how often it evaluates and writes',
      fields: {
        durable: { type: 'string', default: DEFAULT_DURABLE, description: 'Durable consumer name on the hub stream' },
        batch: { type: 'int', default: 1000, min: 1, max: 10_000, description: 'Events fetched at once' },
        flush_interval: {
          type: 'int',
          default: DEFAULT_FLUSH_INTERVAL_MS,
          min: 10,
          max: 10_000,
          unit: 'ms',
          description: 'Evaluation of what new events touched, and writing of the alerts they changed',
        },
        checkpoint_interval: {
          type: 'int',
          default: DEFAULT_CHECKPOINT_INTERVAL_MS,
          min: 100,
          max: 60_000,
          unit: 'ms',
          description: 'How often the evaluation state is saved and the events it covers acked',
        },
        sweep_interval: {
          type: 'int',
          default: DEFAULT_SWEEP_INTERVAL_MS,
          min: 100,
          max: 60_000,
          unit: 'ms',
          description: 'Full evaluation (silence deadlines, re-notification, silences ending)',
        },
        keep_resolved: {
          type: 'int',
          default: DEFAULT_KEEP_RESOLVED_S,
          min: 60,
          unit: 's',
          description: 'Resolved alerts stay listed this long',
        },
        replicas: {
          type: 'int',
          default: 1,
          min: 1,
          max: 5,
          description: 'Replicas of the buckets and stream it creates',
        },
      },
    },
    ops: {
      description: 'Operations endpoints: /healthz, /readyz, /metrics',
      fields: {
        host: { type: 'string', default: '127.0.0.1', description: 'Listen address' },
        port: {
          type: 'int',
          default: DEFAULT_OPS_PORT,
          min: 0,
          max: 65535,
          description: 'Listen port (0: any free port)',
        },
        enabled: { type: 'bool', default: true, description: 'Serve the endpoints at all' },
      },
    },
  },
});

export type AlertsConfig = ConfigValue<typeof alertsConfig>;
export type WebhookConfig = AlertsConfig['webhook'][string];
export type MeshConfig = AlertsConfig['mesh'][string];

type RuleSectionValue = AlertsConfig['rule'][string];

/** An INI rule section as the API's rule JSON (absent keys left out, so defaults apply in one place). */
function ruleJson(name: string, s: RuleSectionValue): Record<string, unknown> {
  const out: Record<string, unknown> = { name };
  for (const [k, v] of Object.entries(s)) {
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * Every `[rule_<name>]` of the file, validated as the API validates a posted rule: a problem names the file, the
 * section and the key (unknown kind, negative duration, a node id not of the form !xxxxxxxx, a bad pattern, ...).
 */
export function rulesFromConfig(cfg: AlertsConfig): AlertRule[] {
  const rules: AlertRule[] = [];
  for (const [name, section] of Object.entries(cfg.rule)) {
    const res = validateAlertRule(ruleJson(name, section));
    if (!res.ok) {
      const key = res.field === 'name' ? undefined : res.field;
      const message =
        res.field === 'name' ? `rule name: ${res.error.replace(/^\/name: /, '')}` : res.error.replace(/^\/[^:]*: /, '');
      throw new ConfigError(message, { file: cfg.file, section: `rule_${name}`, ...(key ? { key } : {}) });
    }
    const unknownHook = (res.value.notify ?? []).find((h) => !(h in cfg.webhook));
    if (unknownHook) {
      throw new ConfigError(`no [webhook_${unknownHook}] section`, {
        file: cfg.file,
        section: `rule_${name}`,
        key: 'notify',
      });
    }
    rules.push(res.value);
  }
  for (const [name, hook] of Object.entries(cfg.webhook)) {
    if (!/^https?:\/\//.test(hook.url)) {
      throw new ConfigError('must be an http:// or https:// URL', {
        file: cfg.file,
        section: `webhook_${name}`,
        key: 'url',
      });
    }
  }
  for (const [name, m] of Object.entries(cfg.mesh)) checkMesh(cfg.file, name, m);
  return rules;
}

function checkMesh(file: string | undefined, name: string, m: MeshConfig): void {
  const at = (key: string) => ({ file, section: `mesh_${name}`, key });
  const site = tokenProblem(m.site) ?? (RESERVED_SITES.includes(m.site) ? 'is reserved' : undefined);
  if (site) throw new ConfigError(`site ${JSON.stringify(m.site)} ${site}`, at('site'));
  const agent = tokenProblem(m.agent);
  if (agent) throw new ConfigError(`agent ${JSON.stringify(m.agent)} ${agent}`, at('agent'));
  if (m.to !== undefined && !/^![0-9a-f]{8}$/.test(m.to)) {
    throw new ConfigError(
      `${JSON.stringify(m.to)} is not a node id of the form !xxxxxxxx (8 lower-case hex digits)`,
      at('to'),
    );
  }
  // Off by default: a text to the mesh costs everyone's air time, so the rules that may send one are named.
  if ((m.rules ?? []).length === 0)
    throw new ConfigError('name the rules whose alerts are sent to the mesh', at('rules'));
}

export function loadAlertsConfig(file: string | undefined, env?: Record<string, string | undefined>): AlertsConfig {
  const cfg = loadConfig(alertsConfig, file, env ? { env } : {});
  rulesFromConfig(cfg);
  return cfg;
}

export function parseAlertsConfig(text: string, file?: string): AlertsConfig {
  const cfg = parseConfig(alertsConfig, text, file, { env: {} });
  rulesFromConfig(cfg);
  return cfg;
}

/** What `mmm up` and the sample config start with: enough to see alerts on the simulated mesh. */
export const DEFAULT_RULES_INI = `[rule_node-silent]
kind = node_silent
duration = 7200

[rule_battery-low]
kind = battery_low
threshold = 20
duration = 600

[rule_agent-silent]
kind = agent_silent
duration = 600
`;
