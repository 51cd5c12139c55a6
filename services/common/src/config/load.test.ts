import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { loadConfig, parseConfig, sampleConfig } from './load.js';
import { defineConfig } from './spec.js';

const spec = defineConfig({
  sections: {
    agent: {
      description: 'agent',
      required: true,
      fields: {
        id: { type: 'string', required: true, description: 'id' },
        location_lat: { type: 'number', min: -90, max: 90, description: 'lat' },
        priority_nodes: { type: 'list', default: [], description: 'ids' },
      },
    },
    route_discovery: {
      description: 'traceroutes',
      fields: {
        enabled: { type: 'bool', default: true, description: 'on' },
        interval_minutes: { type: 'int', default: 60, min: 1, description: 'period', unit: 'min' },
      },
    },
    api_keys: { description: 'keys', fields: {}, freeform: { type: 'string', description: 'key' } },
  },
  prefixed: {
    server_: {
      description: 'destination',
      fields: {
        url: { type: 'string', required: true, description: 'url' },
        enabled: { type: 'bool', default: true, description: 'on' },
      },
    },
  },
});

describe('parseConfig', () => {
  it('types values, applies defaults and collects prefixed sections', () => {
    const c = parseConfig(
      spec,
      '[agent]\nid = gw-1\nlocation_lat = 52.5\npriority_nodes = !a, !b\n[server_primary]\nurl = http://x\nenabled = False\n[api_keys]\ngw-1 = abc',
      'a.ini',
      { env: {} },
    );
    expect(c.agent.id).toBe('gw-1');
    expect(c.agent.location_lat).toBe(52.5);
    expect(c.agent.priority_nodes).toEqual(['!a', '!b']);
    expect(c.route_discovery.interval_minutes).toBe(60);
    expect(c.route_discovery.enabled).toBe(true);
    expect(c.server.primary).toEqual({ url: 'http://x', enabled: false });
    expect(c.api_keys.entries).toEqual({ 'gw-1': 'abc' });
  });

  it('names file, section and key for unknown keys, unknown sections, bad values and missing keys', () => {
    const err = (text: string) => {
      try {
        parseConfig(spec, text, 'agent.ini', { env: {} });
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect((e as ConfigError).exitCode).toBe(2);
        return (e as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(err('[agent]\nid = a\nlocaton_lat = 1')).toMatch(
      /^agent\.ini \[agent\] locaton_lat: unknown key \(known keys: id, location_lat/,
    );
    expect(err('[agent]\nid = a\n[nope]\nx = 1')).toMatch(/^agent\.ini \[nope\]: unknown section/);
    expect(err('[agent]\nid = a\nlocation_lat = north')).toMatch(
      /\[agent\] location_lat: must be a number, got "north"/,
    );
    expect(err('[agent]\nid = a\nlocation_lat = 91')).toMatch(/location_lat: must be at most 90/);
    expect(err('[agent]\n')).toMatch(/\[agent\] id: is required/);
    expect(err('[route_discovery]\nenabled = maybe\n[agent]\nid=a')).toMatch(
      /\[route_discovery\] enabled: must be true or false/,
    );
    expect(err('[route_discovery]\ninterval_minutes = 1.5\n[agent]\nid=a')).toMatch(/must be a whole number/);
    expect(err('[server_x]\nenabled = true\n[agent]\nid=a')).toMatch(/\[server_x\] url: is required/);
    expect(err('')).toMatch(/\[agent\]: section is required/);
  });

  it('lets MMM_<SECTION>_<KEY> environment variables override the file, validated the same way', () => {
    const c = parseConfig(spec, '[agent]\nid = a\n[server_primary]\nurl = http://x', 'f.ini', {
      env: { MMM_AGENT_ID: 'from-env', MMM_SERVER_PRIMARY_URL: 'http://y', MMM_ROUTE_DISCOVERY_INTERVAL_MINUTES: '5' },
    });
    expect(c.agent.id).toBe('from-env');
    expect(c.server.primary?.url).toBe('http://y');
    expect(c.route_discovery.interval_minutes).toBe(5);
    expect(() => parseConfig(spec, '[agent]\nid=a', 'f.ini', { env: { MMM_AGENT_LOCATION_LAT: 'x' } })).toThrow(
      /MMM_AGENT_LOCATION_LAT \(environment\) \[agent\] location_lat: must be a number/,
    );
  });
});

describe('loadConfig', () => {
  it('reports a missing file by path and round-trips a generated sample', () => {
    expect(() => loadConfig(spec, '/nonexistent/agent.ini')).toThrow(
      /\/nonexistent\/agent\.ini: cannot read the configuration file \(ENOENT\)/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'mmm-cfg-'));
    const file = join(dir, 'sample.ini');
    writeFileSync(file, sampleConfig(spec, { agent: { id: 'gw-9' }, server_main: { url: 'http://h' } }));
    const c = loadConfig(spec, file, { env: {} });
    expect(c.agent.id).toBe('gw-9');
    expect(c.server.main?.url).toBe('http://h');
    expect(c.route_discovery.interval_minutes).toBe(60);
  });
});
