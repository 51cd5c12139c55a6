import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ConfigError } from '@mmm/common';
import { syncLine } from './nats-version.js';

export interface SampleOptions {
  site: string;
  agent: string;
  leafPort: number;
  hubLeafUrl: string;
  storeDir: string;
  syncSupported: boolean;
}

export const SAMPLE_DEFAULTS = {
  site: 'site1',
  agent: 'agent-001',
  leafPort: 4222,
  hubLeafUrl: 'nats-leaf://hub.example.org:7422',
};

/** A commented agent INI: what a first-time user edits. Every key the original knew is shown. */
export function sampleAgentIni(o: SampleOptions, leafConfFile: string): string {
  return `# MeshyMcMapface agent configuration (mmm agent --config <this file>).
# The original Python agent's INI files load unchanged; [nats] is new. Details: docs/agent.md.

[agent]
# Agent id: letters, digits, _ and - (it becomes part of NATS subjects).
id = ${o.agent}
location_name = Example Site
location_lat = 52.5200
location_lon = 13.4050
# Comma list of !xxxxxxxx nodes traced more often (every 2 h, when heard after 4 h, when their route is 6 h old).
;priority_nodes = !a1b2c3d4,!0000beef
;priority_check_interval = 300
;priority_cache_duration = 12

[meshtastic]
# serial, tcp or auto (device_path if set, else tcp_host, else scan the serial ports for a radio).
# BLE is not supported: run a BLE-to-TCP bridge and use tcp (docs/agent.md).
connection_type = tcp
tcp_host = 127.0.0.1
tcp_port = 4403
;device_path = /dev/ttyUSB0
# Extra channel keys (name:base64psk); the radio's own channels are added at connect.
;channel_keys = Private:1PG7OiApB1nwvP+rz05pAQ==

[nats]
# The site's leaf nats-server (config written next to this file: ${basename(leafConfFile)}).
url = nats://127.0.0.1:${o.leafPort}
# Site id = the leaf's JetStream domain.
site = ${o.site}
;creds = /etc/meshymcmapface/agent.creds
# A leaf with TLS on its client port (mmm creds --tls-generate): the CA to verify it, and a client certificate
# where the leaf requires one.
;tls_ca = /etc/meshymcmapface/creds/tls/ca.pem
;tls_cert =
;tls_key =

[route_discovery]
enabled = true
interval_minutes = 60
hop_limit = 7
# Seconds between traceroutes; the firmware allows one per 30 s, so lower values are raised to 30.
delay_between_traces = 30
;max_per_cycle = 20

;[nodedb]
;interval_minutes = 15

# The original's HTTP server, fed from the site stream while you migrate (enable and set url/api_key).
[server_legacy]
enabled = false
url = http://127.0.0.1:8082
api_key = change-me
report_interval = 30
packet_types = all
;filter_nodes =
;exclude_nodes =
timeout = 10
max_retries = 3

# JSON log shipping (as in the original):
;[json_tcp_log_primary]
;host = logs.example.org
;port = 5140
`;
}

/** The site's leaf nats-server: JetStream domain = site id, file store, leafnode link to the hub. */
export function sampleLeafConf(o: SampleOptions): string {
  return `# Leaf nats-server for site "${o.site}" (nats-server -c ${'<this file>'}).
# Holds the site stream MESH_${o.site} (created by the agent) and forwards it to the hub when the link is up.
server_name: leaf-${o.site}
listen: 127.0.0.1:${o.leafPort}
http: 127.0.0.1:${o.leafPort + 4000}
jetstream {
  store_dir: ${JSON.stringify(o.storeDir)}
  domain: ${o.site}
  ${syncLine(o.syncSupported)}
}
leafnodes {
  reconnect: 2
  remotes: [
    # More than one hub URL gives failover; add credentials: "/path/leaf.creds" when the hub requires them.
    { url: ${JSON.stringify(o.hubLeafUrl)} }
  ]
}
`;
}

/** Writes the sample INI and the leaf config next to it; refuses to overwrite unless forced. */
export function writeSampleConfig(file: string, o: SampleOptions, force = false): { ini: string; leaf: string } {
  const leaf = join(dirname(file), `leaf-${o.site}.conf`);
  for (const f of [file, leaf]) {
    if (existsSync(f) && !force) throw new ConfigError('already exists; use --force to overwrite it', { file: f });
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, sampleAgentIni(o, leaf));
  writeFileSync(leaf, sampleLeafConf(o));
  return { ini: file, leaf };
}
