import {
  ConfigError,
  createLogger,
  type Logger,
  runService,
  Shutdown,
  serviceOptions,
  startOpsServer,
} from '@mmm/common';
import type { Command } from 'commander';
import { channelKeys, readAgentConfig } from '../config/settings.js';
import { startMqttBridge } from './bridge.js';
import { loadMqttSettings, type MqttBridgeSettings } from './settings.js';

export const DEFAULT_MQTT_CONFIG = 'mqtt.ini';

interface MqttCliOptions {
  config?: string;
  logLevel?: string;
  logFile?: string;
  pidFile?: string;
  keysFrom?: string;
}

/** `mmm mqtt` (its own module entry, `@mmm/agent/mqtt-cli`: the bridge shares the agent's decoder and publishing). */
export function register(program: Command): void {
  const cmd = program
    .command('mqtt')
    .description(
      "bridge MQTT brokers (radios' MQTT uplink, public feeds, nats-server's MQTT listener) into the site leaf as reception events",
    )
    .addHelpText(
      'after',
      `
The config names the leaf ([nats] url, site), channel keys ([meshtastic] channel_keys) and one [broker_<name>]
section per broker (url, topics = "msh/#" (quoted: # starts an INI comment), username, password, qos, protocol, silent_timeout, channels, tls_*).
Every MQTT gateway becomes an agent gw-<node id> of the site; bad messages go to mesh.v1.dlq.mqtt with a reason.

Example mqtt.ini:
  [nats]
  url = nats://127.0.0.1:4222
  site = mqtt-public
  [broker_public]
  url = mqtt://mqtt.example.org:1883
  topics = "msh/EU_868/#"
  username = meshdev
  password = large4cats

Exit codes: 0 after SIGINT/SIGTERM, 2 for a configuration problem (file, section and key are named), 1 otherwise.
Documentation: docs/mqtt.md`,
    );
  for (const [flags, description] of serviceOptions) cmd.option(flags, description);
  cmd.option(
    '--keys-from <agent.ini>',
    "also decrypt with the channel keys of an agent's config ([meshtastic] channel_keys), as mmm up does",
  );
  cmd.action(async (opts: MqttCliOptions) => {
    await runService(opts, () => runBridge(opts));
  });
}

async function runBridge(opts: MqttCliOptions): Promise<void> {
  const file = opts.config ?? DEFAULT_MQTT_CONFIG;
  const settings = withAgentKeys(loadMqttSettings(file), opts.keysFrom);
  let log: Logger;
  try {
    log = createLogger({
      name: 'mqtt',
      level: opts.logLevel ?? settings.log.level,
      file: opts.logFile ?? settings.log.file,
      base: { site: settings.site },
    });
  } catch (cause) {
    throw new ConfigError((cause as Error).message, opts.logLevel ? {} : { file, section: 'log', key: 'level' }, {
      cause,
    });
  }
  const shutdown = new Shutdown(log).listen();
  const running = await startMqttBridge(settings, { log });
  shutdown.add('mqtt bridge', () => running.stop());
  if (settings.opsPort !== undefined) {
    const ops = await startOpsServer({
      port: settings.opsPort,
      registry: running.registry,
      ready: () => running.ready(),
      health: () => running.health(),
    });
    shutdown.add('ops', () => ops.close());
    log.info({ port: ops.port }, 'ops endpoints listening');
  }
  await new Promise<void>(() => undefined);
}

/** One set of channel keys for a site: the agent's config is where an operator already keeps them. */
function withAgentKeys(settings: MqttBridgeSettings, agentIni?: string): MqttBridgeSettings {
  if (!agentIni) return settings;
  const cfg = readAgentConfig(agentIni);
  return { ...settings, channelKeys: [...settings.channelKeys, ...channelKeys(cfg.meshtastic.channel_keys, agentIni)] };
}
