import { type NatsServer, startNatsServer } from '@mmm/testkit';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { connectNats } from '../nats.js';
import { parseConfig } from './load.js';
import { natsConnectOptions } from './nats-connect.js';
import { natsSection } from './sections.js';

const nats = (ini: string) => parseConfig({ sections: { nats: natsSection } }, `[nats]\n${ini}`, 'svc.ini').nats;

/** alice may only receive replies on her own inbox prefix, as mmm creds writes her permissions. */
const AUTH = `authorization {
  users: [
    { user: alice, password: s3cret, permissions: { publish: { allow: ["$JS.API.>"] }, subscribe: { allow: ["_INBOX_alice.>"] } } }
  ]
}`;

interface Connz {
  connections: { name?: string; authorized_user?: string }[];
}

async function connz(server: NatsServer): Promise<Connz> {
  const res = await fetch(`http://127.0.0.1:${server.monitorPort}/connz?auth=true`);
  return (await res.json()) as Connz;
}

let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer({ name: 'nats-connect', extraConfig: AUTH });
});
afterAll(async () => {
  await server?.dispose();
});

describe('natsConnectOptions', () => {
  it('connects with every [nats] key: empty URL entries dropped, name, user, password and inbox prefix', async () => {
    const cfg = nats(`url = , ${server.url} ,\nuser = alice\npassword = s3cret\ninbox_prefix = _INBOX_alice`);
    const opts = natsConnectOptions(cfg, 'mmm-test-svc', 'svc.ini');
    expect(opts.servers).toEqual([server.url]);
    const nc: NatsConnection = await connectNats({ ...opts, connectTimeoutMs: 5000 });
    try {
      // A JetStream request answers on the prefixed inbox, the only one alice may subscribe to.
      const jsm = await nc.jetstreamManager({ timeout: 2000 });
      expect((await jsm.getAccountInfo()).streams).toBe(0);
      const mine = (await connz(server)).connections.filter((c) => c.name === 'mmm-test-svc');
      expect(mine).toEqual([expect.objectContaining({ name: 'mmm-test-svc', authorized_user: 'alice' })]);
    } finally {
      await nc.close();
    }
  });

  it('without the inbox prefix the same user gets no JetStream replies (so the prefix above was what worked)', async () => {
    const cfg = nats(`url = ${server.url}\nuser = alice\npassword = s3cret`);
    const nc = await connectNats({ ...natsConnectOptions(cfg, 'mmm-test-noprefix'), connectTimeoutMs: 5000 });
    try {
      await expect(nc.jetstreamManager({ timeout: 1000 })).rejects.toThrow(/permissions violation/i);
    } finally {
      await nc.close();
    }
  });

  it('is refused by the server with a wrong password, at once rather than after the connect timeout', async () => {
    const cfg = nats(`url = ${server.url}\nuser = alice\npassword = wrong`);
    const started = Date.now();
    const err = await connectNats({ ...natsConnectOptions(cfg, 'mmm-test-bad'), connectTimeoutMs: 20_000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'BrokerError' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('passes token and creds through, and refuses a section with no URL or unreadable TLS files by key', () => {
    expect(natsConnectOptions(nats('token = t0k\ncreds = /etc/x.creds'), 'n')).toMatchObject({
      servers: ['nats://127.0.0.1:4222'],
      token: 't0k',
      creds: '/etc/x.creds',
      tls: undefined,
    });
    expect(() => natsConnectOptions(nats('url = , ,'), 'n', 'svc.ini')).toThrow(
      new ConfigError('no server URL', { file: 'svc.ini', section: 'nats', key: 'url' }),
    );
    expect(() => natsConnectOptions(nats('tls_ca = /nonexistent/ca.pem'), 'n', 'svc.ini')).toThrow(
      'svc.ini [nats] tls_ca: cannot read /nonexistent/ca.pem',
    );
  });
});
