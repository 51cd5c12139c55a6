import { readFileSync } from 'node:fs';
import { ConfigError, parseConfig } from '@mmm/common';
import { describe, expect, it } from 'vitest';
import { readAgentConfig, resolveSettings, splitHostPort, stripCommentedSections } from './settings.js';
import { agentConfigSpec } from './spec.js';

const ORIGINAL = new URL('./original-sample.ini', import.meta.url).pathname;
const parse = (text: string) =>
  resolveSettings(parseConfig(agentConfigSpec, stripCommentedSections(text), 'a.ini', { env: {} }));
const base = '[agent]\nid = a1\nlocation_name = X\n[meshtastic]\nconnection_type = tcp\ntcp_host = 10.0.0.5\n';

describe('agent configuration', () => {
  it("loads the original's sample INI unchanged, and the keys it ignored now work", () => {
    const s = resolveSettings(readAgentConfig(ORIGINAL, {}));
    expect(s.agent).toBe('agent_001');
    expect(s.location).toEqual({ name: 'Main Office', lat: 40.7128, lon: -74.006 });
    expect(s.radio).toEqual({ kind: 'serial', path: '/dev/ttyUSB0', baudRate: 115200 });
    expect(s.site).toBe('site1');
    expect(s.trace.hopLimit).toBe(7);
    expect(s.trace.priorityNodes).toEqual([0xa1b2c3d4, 0xbeef]);
    expect(s.trace.priorityCacheMs).toBe(12 * 3_600_000);
    // 3 s is below the firmware's one-per-30-s limit: raised, with a warning.
    expect(s.trace.gapMs).toBe(30_000);
    expect(s.warnings.join()).toMatch(/delay_between_traces/);
    expect(s.legacy.map((d) => d.name)).toEqual(['primary', 'backup']); // analytics is disabled
    expect(s.legacy[1]).toMatchObject({
      url: 'http://backup-server:8082',
      reportIntervalMs: 60_000,
      maxRetries: 5,
      timeoutMs: 15_000,
    });
    expect(s.legacy[0]!.packetTypes).toBeUndefined();
  });

  it('parses packet types and node filters of a destination', () => {
    const s = parse(
      `${base}[server_x]\nurl = http://h:1\napi_key = k\npacket_types = position, telemetry\nfilter_nodes = !0000beef\nexclude_nodes = !a1b2c3d4\n`,
    );
    expect([...s.legacy[0]!.packetTypes!]).toEqual(['position', 'telemetry']);
    expect([...s.legacy[0]!.filterNodes]).toEqual([0xbeef]);
    expect([...s.legacy[0]!.excludeNodes]).toEqual([0xa1b2c3d4]);
  });

  it('makes [server_*] optional and adds [nats] and tcp_port', () => {
    const s = parse(`${base}tcp_port = 4500\n[nats]\nurl = nats://127.0.0.1:4333\nsite = north\n`);
    expect(s.legacy).toEqual([]);
    expect(s.radio).toEqual({ kind: 'tcp', host: '10.0.0.5', port: 4500 });
    expect(s.site).toBe('north');
    expect(s.nats.servers).toEqual(['nats://127.0.0.1:4333']);
    expect(s.nats.name).toBe(`mmm-agent-${s.agent}`);
    expect(splitHostPort('radio.local:4403', 1)).toEqual({ host: 'radio.local', port: 4403 });
    expect(splitHostPort('[::1]:5000', 1)).toEqual({ host: '::1', port: 5000 });
  });

  it('rejects bad input with the file, section and key named', () => {
    const err = (text: string) => {
      try {
        parse(text);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err(`${base}colour = blue\n`)).toMatch(/^a\.ini \[meshtastic\] colour: unknown key/);
    expect(err(base.replace('connection_type = tcp', 'connection_type = ble'))).toMatch(
      /\[meshtastic\] connection_type: BLE is not supported.*BLE-to-TCP bridge/,
    );
    expect(err(`${base}[nats]\nsite = a.b\n`)).toMatch(/\[nats\] site: site id "a\.b" contains '\.'/);
    expect(err(base.replace('id = a1', 'id = a b'))).toMatch(/\[agent\] id:/);
    expect(err(`${base}[server_x]\nurl = http://h\napi_key = k\npacket_types = gossip\n`)).toMatch(
      /\[server_x\] packet_types: unknown packet type "gossip"/,
    );
    expect(err(`${base}[server_x]\nurl = http://h\napi_key = k\nexclude_nodes = bob\n`)).toMatch(
      /\[server_x\] exclude_nodes/,
    );
    expect(err('[agent]\nid = a\n')).toMatch(/\[agent\] location_name: is required/);
  });

  it('points at --create-config when the file is missing', () => {
    expect(() => readAgentConfig('/nonexistent/agent.ini')).toThrow(
      /ENOENT.*mmm agent --create-config \/nonexistent\/agent\.ini/,
    );
  });

  it('ignores the original’s commented-out [# …] sections only', () => {
    expect(stripCommentedSections(readFileSync(ORIGINAL, 'utf8'))).not.toMatch(/auth_token/);
    expect(stripCommentedSections('[a]\nx=1\n[# b]\ny=2\n[c]\nz=3')).toBe('[a]\nx=1\n[c]\nz=3');
  });
});
