// Test helpers (not part of the public entry): real nats-servers, an agent config, reading the hub stream.
import { createLogger, parseConfig, readStreamRange } from '@mmm/common';
import { streams } from '@mmm/schemas';
import { type HubAndLeaves, startHubAndLeaves } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import {
  type AgentSettings,
  resolveSettings,
  type SettingsOverrides,
  stripCommentedSections,
} from '../config/settings.js';
import { agentConfigSpec } from '../config/spec.js';
import { provisionHub } from '../streams/provision.js';

export interface Stack {
  hubAndLeaves: HubAndLeaves;
  hubNc: NatsConnection;
  leafUrl: string;
  dispose(): Promise<void>;
}

export async function startStack(site = 'site1'): Promise<Stack> {
  const hubAndLeaves = await startHubAndLeaves([site]);
  const hubNc = await connect({ servers: hubAndLeaves.hub.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  await provisionHub(await hubNc.jetstreamManager(), { sites: [site] });
  return {
    hubAndLeaves,
    hubNc,
    leafUrl: hubAndLeaves.leaves[site]!.url,
    dispose: async () => {
      await hubNc.close().catch(() => undefined);
      await hubAndLeaves.dispose();
    },
  };
}

export function settingsFrom(ini: string, overrides: SettingsOverrides = {}): AgentSettings {
  return resolveSettings(parseConfig(agentConfigSpec, stripCommentedSections(ini), 'test.ini', { env: {} }), overrides);
}

export function agentIni(o: {
  leafUrl: string;
  simPort?: number;
  devicePath?: string;
  site?: string;
  agent?: string;
  extra?: string;
}): string {
  const radio = o.devicePath
    ? `connection_type = serial\ndevice_path = ${o.devicePath}`
    : `connection_type = tcp\ntcp_host = 127.0.0.1:${o.simPort}`;
  return `[agent]
id = ${o.agent ?? 'agent1'}
location_name = Test bench
location_lat = 52.5
location_lon = 13.4
[meshtastic]
${radio}
heartbeat_interval = 5
reconnect_max = 2
[nats]
url = ${o.leafUrl}
site = ${o.site ?? 'site1'}
[route_discovery]
enabled = false
${o.extra ?? ''}
`;
}

export const quietLog = () => createLogger({ name: 'agent-test', level: process.env.MMM_TEST_LOG ?? 'silent' });

export interface StoredEvent {
  subject: string;
  msgId: string | undefined;
  seq: number;
  data: Record<string, unknown>;
}

/** Every event in a stream (optionally filtered); a server that is not ready fails the call, so waitFor retries. */
export async function readStream(
  nc: NatsConnection,
  stream: string = streams.hub,
  filter?: string,
): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  await readStreamRange(nc.jetstream(), await nc.jetstreamManager(), { stream, filter }, (m) => {
    out.push({ subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id') || undefined, seq: m.seq, data: m.json() });
  });
  return out;
}

export async function streamCount(nc: NatsConnection, stream = streams.hub): Promise<number> {
  const jsm = await nc.jetstreamManager();
  return (await jsm.streams.info(stream)).state.messages;
}
