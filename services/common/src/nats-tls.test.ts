import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer } from '@mmm/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from './config/load.js';
import { natsSection } from './config/sections.js';
import { ConfigError } from './errors.js';
import { connectNats } from './nats.js';
import { natsTls } from './nats-tls.js';

const dir = mkdtempSync(join(tmpdir(), 'mmm-nats-tls-'));
const ca = join(dir, 'ca.pem');
writeFileSync(ca, 'pem');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const nats = (ini: string) => parseConfig({ sections: { nats: natsSection } }, `[nats]\n${ini}`, 'svc.ini').nats;

describe('[nats] TLS keys', () => {
  it('are absent by default (plain connection, nats.js upgrades only when the server asks)', () => {
    expect(natsTls(nats(''))).toBeUndefined();
  });

  it('map to the nats.js file options', () => {
    expect(natsTls(nats(`tls_ca = ${ca}\ntls_cert = ${ca}\ntls_key = ${ca}`))).toEqual({
      caFile: ca,
      certFile: ca,
      keyFile: ca,
    });
  });

  it('refuse a certificate without its key, an unreadable file and an unknown key, naming where', () => {
    expect(() => natsTls(nats(`tls_cert = ${ca}`), 'svc.ini')).toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        message: expect.stringMatching(/svc.ini \[nats\] tls_key: .*together/),
      }),
    );
    const missing = join(dir, 'nope.pem');
    expect(() => natsTls(nats(`tls_ca = ${missing}`), 'svc.ini')).toThrow(ConfigError);
    expect(() => natsTls(nats(`tls_ca = ${missing}`), 'svc.ini')).toThrow(
      `svc.ini [nats] tls_ca: cannot read ${missing}`,
    );
    expect(() => nats('tls_verify = true')).toThrow(ConfigError);
  });

  it('make connectNats refuse, at once and by name, a server that offers no TLS', async () => {
    const server = await startNatsServer({ name: 'plain' });
    try {
      const err = await connectNats({
        servers: server.url,
        name: 'tls-to-plain',
        tls: { caFile: ca },
        connectTimeoutMs: 600_000,
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'NatsTlsError' });
      expect((err as Error).message).toContain('the server does not offer TLS');
    } finally {
      await server.dispose();
    }
  });
});
