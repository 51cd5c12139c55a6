import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, createLogger, parseConfig } from '@mmm/common';
import { describe, expect, it } from 'vitest';
import { createTokenLine } from '../../cli.js';
import { apiConfigSpec } from '../../config.js';
import { createMetrics } from '../../metrics.js';
import { AuthTokens } from './sources.js';
import { digestOf, parseTokensFile, TokenStore } from './tokens.js';

const T = 'abcdefghijklmnop0123';

describe('tokens file', () => {
  it('reads scopes, comments, hashed tokens; a token matches only itself', () => {
    const defs = parseTokensFile(
      `# comment\n\nread ${T}\nread,metrics,legacy-write:gw-1  sha256:${digestOf(`${T}x`).toString('hex')}\n`,
      'f',
    );
    const store = new TokenStore(defs);
    expect(store.match(T)).toMatchObject({ read: true, metrics: false, source: 'f:3' });
    expect(store.match(T)?.writeAs).toBeUndefined();
    expect(store.match(`${T}x`)).toMatchObject({ read: true, metrics: true, writeAs: 'gw-1', source: 'f:4' });
    for (const wrong of ['', T.slice(1), `${T} `, T.toUpperCase(), `sha256:${digestOf(T).toString('hex')}`])
      expect(store.match(wrong)).toBeUndefined();
  });

  it('refuses with the file and line: unknown scope, bad token, two agents, bad agent id, extra fields, duplicates', () => {
    expect(() => parseTokensFile(`reed ${T}`, 'f')).toThrow(/f:1: unknown scope "reed"/);
    expect(() => parseTokensFile('\nread short', 'f')).toThrow(/f:2: a token needs 16/);
    expect(() => parseTokensFile(`read ${T}\u00e9`, 'f')).toThrow(/f:1: a token needs/);
    expect(() => parseTokensFile(`legacy-write:a,legacy-write:b ${T}`, 'f')).toThrow(/one agent only/);
    expect(() => parseTokensFile(`legacy-write:a.b ${T}`, 'f')).toThrow(/f:1: legacy-write agent id/);
    expect(() => parseTokensFile(`read ${T} extra`, 'f')).toThrow(/expected "<scopes> <token>"/);
    expect(() => new TokenStore(parseTokensFile(`read ${T}\nmetrics ${T}`, 'f'))).toThrow(/f:2: the same token/);
  });

  it('mmm api --create-token prints a line the file accepts, with a fresh token each time', () => {
    const line = createTokenLine('read,legacy-write:gw-1');
    const [def] = parseTokensFile(line, 'x');
    expect(def?.grant).toMatchObject({ read: true, writeAs: 'gw-1' });
    expect(createTokenLine()).toMatch(/^read [A-Za-z0-9_-]{32}\n$/);
    expect(createTokenLine()).not.toBe(createTokenLine());
    expect(() => createTokenLine('write')).toThrow(/unknown scope/);
  });
});

describe('tokens at start', () => {
  const start = (ini: string) =>
    new AuthTokens({
      cfg: parseConfig(apiConfigSpec, ini, 'api.ini', { env: {} }),
      legacyKeys: new Map(),
      metrics: createMetrics(),
      log: createLogger({ name: 'test', level: 'silent' }),
    });

  it('a bad file or read token stops the start naming where; no token source means open reads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmm-tokens-'));
    try {
      writeFileSync(join(dir, 't'), `read ${T}\nread nope\n`);
      expect(() => start(`[auth]\ntokens_file = ${join(dir, 't')}\n`)).toThrow(ConfigError);
      expect(() => start(`[auth]\ntokens_file = ${join(dir, 't')}\n`)).toThrow(`${join(dir, 't')}:2`);
      expect(() => start(`[auth]\ntokens_file = ${join(dir, 'missing')}\n`)).toThrow(/cannot read the tokens file/);
      expect(() => start('[auth]\nread_tokens = short\n')).toThrow(/api.ini \[auth\] read_tokens: token 1/);
      expect(start('').readsOpen).toBe(true);
      writeFileSync(join(dir, 'empty'), '# nobody yet\n');
      // An empty file still closes reads: emptying it must not open the API.
      expect(start(`[auth]\ntokens_file = ${join(dir, 'empty')}\n`).readsOpen).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
