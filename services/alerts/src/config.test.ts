import { ConfigError } from '@mmm/common';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES_INI, parseAlertsConfig, rulesFromConfig } from './config.js';

const load = (text: string) => rulesFromConfig(parseAlertsConfig(text, '/etc/mmm/alerts.ini'));

function problem(text: string): string {
  try {
    load(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  return 'accepted';
}

describe('alert rules in the INI file', () => {
  it('loads the default rules', () => {
    expect(load(DEFAULT_RULES_INI).map((r) => `${r.name}:${r.kind}`)).toEqual([
      'node-silent:node_silent',
      'battery-low:battery_low',
      'agent-silent:agent_silent',
    ]);
  });
  it.each([
    ['[rule_x]\nkind = volcano\n', '/etc/mmm/alerts.ini [rule_x] kind: must be one of'],
    ['[rule_x]\nkind = node_silent\nduration = -60\n', '/etc/mmm/alerts.ini [rule_x] duration: must be at least 0'],
    [
      '[rule_x]\nkind = node_silent\nnodes = !1234abcd, 1234\n',
      '/etc/mmm/alerts.ini [rule_x] nodes: "1234" is not a node id',
    ],
    ['[rule_x]\nkind = battery_low\n', '/etc/mmm/alerts.ini [rule_x] threshold: battery_low needs one'],
    ['[rule_x]\nkind = text_match\npattern = (\n', '/etc/mmm/alerts.ini [rule_x] pattern: is not a regular expression'],
    ['[rule_x]\nkind = new_node\ncolour = red\n', '/etc/mmm/alerts.ini [rule_x] colour: unknown key'],
    ['[rule_Bad]\nkind = new_node\n', '/etc/mmm/alerts.ini [rule_Bad]: rule name'],
    ['[rule_x]\nkind = new_node\nnotify = pager\n', '/etc/mmm/alerts.ini [rule_x] notify: no [webhook_pager] section'],
    ['[webhook_x]\nurl = ftp://x\n', '/etc/mmm/alerts.ini [webhook_x] url: must be an http'],
    ['[mesh_x]\nsite = s\nagent = a\n', '/etc/mmm/alerts.ini [mesh_x] rules: name the rules'],
    ['[mesh_x]\nsite = s\nagent = a.b\nrules = r\n', '/etc/mmm/alerts.ini [mesh_x] agent: agent "a.b" contains'],
    ['[mesh_x]\nsite = alerts\nagent = a\nrules = r\n', '/etc/mmm/alerts.ini [mesh_x] site: site "alerts" is reserved'],
    [
      '[mesh_x]\nsite = s\nagent = a\nrules = r\nto = 1234\n',
      '/etc/mmm/alerts.ini [mesh_x] to: "1234" is not a node id',
    ],
    [
      '[mesh_x]\nsite = s\nagent = a\nrules = r\nchannel = 9\n',
      '/etc/mmm/alerts.ini [mesh_x] channel: must be at most 7',
    ],
    ['[mesh_x]\nagent = a\nrules = r\n', '/etc/mmm/alerts.ini [mesh_x] site'],
  ])('rejects %j naming file, section and key', (text, message) => {
    expect(problem(text)).toContain(message);
  });
  it('takes a mesh target with its defaults (broadcast on channel 0, 300 s apart)', () => {
    const cfg = parseAlertsConfig('[mesh_ops]\nsite = north\nagent = gw-1\nrules = sos\n', 'a.ini');
    expect(cfg.mesh.ops).toMatchObject({ site: 'north', agent: 'gw-1', channel: 0, min_interval: 300, rules: ['sos'] });
    expect(cfg.mesh.ops?.to).toBeUndefined();
  });
});
