import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureConsumer, ensureStream } from '@mmm/common';
import { streams, subjects } from '@mmm/schemas';
import { freePort, httpOk, requireBinary, ServerProcess, waitFor } from '@mmm/testkit';
import { Command } from 'commander';
import { AckPolicy, connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../creds.js';
import { generateCreds } from './generate.js';
import { readState } from './store.js';

const SITE = 'north';
let dir: string;
let hub: ServerProcess;
let leaf: ServerProcess;
const ports = { hub: 0, hubMon: 0, leafnode: 0, leaf: 0, leafMon: 0 };
const open: NatsConnection[] = [];
const secret = (user: string) => readState(join(dir, 'creds.json')).users[user]!.password;
async function as(user: string, port: number): Promise<NatsConnection> {
  const nc = await connect({ servers: `nats://127.0.0.1:${port}`, user, pass: secret(user), maxReconnectAttempts: 0 });
  open.push(nc);
  return nc;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mmm-creds-'));
  [ports.hub, ports.hubMon, ports.leafnode, ports.leaf, ports.leafMon] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  generateCreds({
    outDir: join(dir, 'out'),
    sites: { [SITE]: ['gw-1', 'gw-2'] },
    hubLeafUrls: [`nats-leaf://127.0.0.1:${ports.leafnode}`],
    hubUrl: `nats://127.0.0.1:${ports.hub}`,
    leafUrl: `nats://127.0.0.1:${ports.leaf}`,
    tls: {},
    rotate: false,
  });
  dir = join(dir, 'out');
  writeFileSync(
    join(dir, 'hub/hub.conf'),
    `listen: 127.0.0.1:${ports.hub}\nhttp: 127.0.0.1:${ports.hubMon}\njetstream { store_dir: ${JSON.stringify(join(dir, 'hub/js'))}, domain: hub }\ninclude "authorization.conf"\nleafnodes {\n  listen: 127.0.0.1:${ports.leafnode}\n  include "leafnodes-authorization.conf"\n}\n`,
  );
  writeFileSync(
    join(dir, `leaf-${SITE}/leaf.conf`),
    `listen: 127.0.0.1:${ports.leaf}\nhttp: 127.0.0.1:${ports.leafMon}\njetstream { store_dir: ${JSON.stringify(join(dir, 'leaf/js'))}, domain: ${SITE} }\ninclude "authorization.conf"\ninclude "leafnodes.conf"\n`,
  );
  const bin = requireBinary('nats-server', 'nats-server');
  hub = new ServerProcess('hub', bin, ['-c', join(dir, 'hub/hub.conf')], () =>
    httpOk(`http://127.0.0.1:${ports.hubMon}/healthz?js-enabled-only=true`),
  );
  leaf = new ServerProcess('leaf', bin, ['-c', join(dir, `leaf-${SITE}/leaf.conf`)], () =>
    httpOk(`http://127.0.0.1:${ports.leafMon}/healthz?js-enabled-only=true`),
  );
  await hub.start();
  await leaf.start();
});

afterAll(async () => {
  for (const nc of open) await nc.close().catch(() => {});
  await leaf?.stop();
  await hub?.stop();
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

describe('mmm creds against real nats-servers', () => {
  it('links the leaf to the hub with its own leafnode user', async () => {
    await waitFor(
      'leafnode link',
      async () => {
        const body = (await (await fetch(`http://127.0.0.1:${ports.hubMon}/leafz`)).json()) as { leafnodes?: number };
        return (body.leafnodes ?? 0) > 0;
      },
      20_000,
    );
  });

  it('lets an agent publish its own events, and refuses it publishing as another agent (nothing stored)', async () => {
    // The site admin provisions the stream; the agent may only look it up and publish its own subjects.
    const siteAdmin = await as(`admin-${SITE}`, ports.leaf);
    await ensureStream(await siteAdmin.jetstreamManager(), {
      name: streams.site(SITE),
      subjects: [subjects.siteAll(SITE)],
    });
    const gw1 = await connect({
      servers: `nats://127.0.0.1:${ports.leaf}`,
      user: `${SITE}.gw-1`,
      pass: secret(`${SITE}.gw-1`),
      inboxPrefix: `_INBOX_${SITE}.gw-1`,
      maxReconnectAttempts: 0,
    });
    open.push(gw1);
    const js = gw1.jetstream();
    const ack = await js.publish(subjects.rx(SITE, 'gw-1', 'text'), new TextEncoder().encode('{}'), { msgID: 'own-1' });
    expect(ack.seq).toBe(1);

    const violations: string[] = [];
    void (async () => {
      for await (const s of gw1.status()) if (s.type === 'error') violations.push(String(s.data));
    })();
    await expect(
      js.publish(subjects.rx(SITE, 'gw-2', 'text'), new TextEncoder().encode('{}'), { msgID: 'forged', timeout: 2000 }),
    ).rejects.toThrow();
    await expect(
      js.publish(subjects.rx('south', 'gw-1', 'text'), new TextEncoder().encode('{}'), { timeout: 2000 }),
    ).rejects.toThrow();
    await waitFor('permission violation reported', () => violations.some((v) => /permissions[ _]violation/i.test(v)));
    const info = await (await gw1.jetstreamManager()).streams.info(streams.site(SITE));
    expect(info.state.messages).toBe(1);
  });

  it('refuses unknown users and wrong passwords on the hub and on the leaf', async () => {
    for (const port of [ports.hub, ports.leaf]) {
      await expect(
        connect({ servers: `nats://127.0.0.1:${port}`, user: 'mallory', pass: 'guess', maxReconnectAttempts: 0 }),
      ).rejects.toThrow(/authorization/i);
      await expect(connect({ servers: `nats://127.0.0.1:${port}`, maxReconnectAttempts: 0 })).rejects.toThrow(
        /authorization/i,
      );
    }
    await expect(
      connect({ servers: `nats://127.0.0.1:${ports.hub}`, user: 'ingest', pass: 'wrong', maxReconnectAttempts: 0 }),
    ).rejects.toThrow(/authorization/i);
    // A site's link user may connect as a leafnode only, never as a client.
    await expect(
      connect({
        servers: `nats://127.0.0.1:${ports.hub}`,
        user: `leaf-${SITE}`,
        pass: secret(`leaf-${SITE}`),
        maxReconnectAttempts: 0,
      }),
    ).rejects.toThrow(/authorization/i);
    // An agent's user exists only on its leaf, not on the hub.
    await expect(
      connect({
        servers: `nats://127.0.0.1:${ports.hub}`,
        user: `${SITE}.gw-1`,
        pass: secret(`${SITE}.gw-1`),
        maxReconnectAttempts: 0,
      }),
    ).rejects.toThrow(/authorization/i);
  });

  it('gives the hub services what they need and no more: ingest consumes the sourced stream but cannot forge agent events', async () => {
    const admin = await as('admin', ports.hub);
    await ensureStream(await admin.jetstreamManager(), {
      name: streams.hub,
      subjects: [],
      sources: [
        {
          name: streams.site(SITE),
          external: { api: `$JS.${SITE}.API`, deliver: streams.sourceDeliverPrefix(SITE) },
        },
      ],
    });
    await ensureConsumer(await admin.jetstreamManager(), streams.hub, {
      durable_name: 'ingest',
      ack_policy: AckPolicy.Explicit,
    });
    const ingest = await connect({
      servers: `nats://127.0.0.1:${ports.hub}`,
      user: 'ingest',
      pass: secret('ingest'),
      inboxPrefix: '_INBOX_ingest',
      maxReconnectAttempts: 0,
    });
    open.push(ingest);
    const consumer = await ingest.jetstream().consumers.get(streams.hub, 'ingest');
    const got = await waitFor(
      'the sourced message',
      async () => {
        for await (const m of await consumer.fetch({ max_messages: 1, expires: 1000 })) {
          m.ack();
          return m.subject;
        }
        return undefined;
      },
      20_000,
    );
    expect(got).toBe(subjects.rx(SITE, 'gw-1', 'text'));
    await expect(
      ingest.jetstream().publish(subjects.rx(SITE, 'gw-1', 'text'), new Uint8Array(), { timeout: 2000 }),
    ).rejects.toThrow();
  });

  it('links a leaf over TLS with the generated snippets (hub certificate from a CA the leaf trusts)', async () => {
    const tlsDir = join(dir, 'tls');
    mkdirSync(tlsDir, { recursive: true });
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: tlsDir, stdio: 'ignore' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=test-ca',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    );
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=hub', '-keyout', 'hub.key', '-out', 'hub.csr');
    writeFileSync(join(tlsDir, 'ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl(
      'x509',
      '-req',
      '-in',
      'hub.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'ext',
      '-out',
      'hub.pem',
    );
    const [c, m, l, lc, lm] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const out = join(tlsDir, 'out');
    generateCreds({
      outDir: out,
      sites: { [SITE]: ['gw-1'] },
      hubLeafUrls: [`nats-leaf://127.0.0.1:${l}`],
      hubUrl: `nats://127.0.0.1:${c}`,
      leafUrl: `nats://127.0.0.1:${lc}`,
      tls: { cert: join(tlsDir, 'hub.pem'), key: join(tlsDir, 'hub.key'), ca: join(tlsDir, 'ca.pem') },
      rotate: false,
    });
    writeFileSync(
      join(out, 'hub/hub.conf'),
      `listen: 127.0.0.1:${c}\nhttp: 127.0.0.1:${m}\ninclude "authorization.conf"\nleafnodes {\n  listen: 127.0.0.1:${l}\n  include "leafnodes-authorization.conf"\n}\n`,
    );
    writeFileSync(
      join(out, `leaf-${SITE}/leaf.conf`),
      `listen: 127.0.0.1:${lc}\nhttp: 127.0.0.1:${lm}\ninclude "authorization.conf"\ninclude "leafnodes.conf"\n`,
    );
    const bin = requireBinary('nats-server', 'nats-server');
    const tlsHub = new ServerProcess('tls-hub', bin, ['-c', join(out, 'hub/hub.conf')], () =>
      httpOk(`http://127.0.0.1:${m}/healthz`),
    );
    const tlsLeaf = new ServerProcess('tls-leaf', bin, ['-c', join(out, `leaf-${SITE}/leaf.conf`)], () =>
      httpOk(`http://127.0.0.1:${lm}/healthz`),
    );
    try {
      await tlsHub.start();
      await tlsLeaf.start();
      const link = await waitFor(
        'TLS leafnode link',
        async () => {
          const body = (await (await fetch(`http://127.0.0.1:${m}/leafz`)).json()) as { leafs?: { name?: string }[] };
          return body.leafs?.[0];
        },
        20_000,
      );
      expect(link).toBeDefined();
      // With a tls { } block the hub's leafnode port speaks TLS only: a link means the leaf completed the handshake,
      // verifying the hub certificate against the CA from its tls:// remote.
      expect(readFileSync(join(out, `leaf-${SITE}/leafnodes.conf`), 'utf8')).toMatch(
        /"tls:\/\/leaf-north:[^"]+@127\.0\.0\.1:\d+"/,
      );
    } finally {
      await tlsLeaf.stop();
      await tlsHub.stop();
    }
  });

  it('keeps existing passwords on a rerun, hashes them for the servers, and writes secrets mode 0600', () => {
    const before = readState(join(dir, 'creds.json'));
    const r = generateCreds({
      outDir: dir,
      sites: { [SITE]: ['gw-1', 'gw-2', 'gw-3'] },
      hubLeafUrls: ['nats-leaf://h:7422'],
      hubUrl: 'nats://h:4222',
      leafUrl: 'nats://l:4222',
      tls: {},
      rotate: false,
    });
    expect(r.created).toEqual([`${SITE}.gw-3`]);
    const after = readState(join(dir, 'creds.json'));
    expect(after.users[`${SITE}.gw-1`]!.password).toBe(before.users[`${SITE}.gw-1`]!.password);
    expect(after.users[`${SITE}.gw-1`]!.hash).toMatch(/^\$2[aby]\$11\$/);
    for (const f of r.files) expect(statSync(f).mode & 0o777, f).toBe(0o600);
    expect(() =>
      generateCreds({
        outDir: dir,
        sites: { 'bad.site': ['x'] },
        hubLeafUrls: [],
        hubUrl: '',
        leafUrl: '',
        tls: {},
        rotate: false,
      }),
    ).toThrow(/site id/);
  });

  it('writes inbox prefixes into every snippet and refuses consumer names, profiles and relays it cannot honour', () => {
    const out = join(dir, 'profiles');
    generateCreds({
      outDir: out,
      sites: { [SITE]: ['gw-1'] },
      hubLeafUrls: ['nats-leaf://h:7422'],
      hubUrl: 'nats://h:4222',
      leafUrl: 'nats://l:4222',
      tls: {},
      rotate: false,
      consumers: [{ name: 'dash', profile: 'consumer-public' }],
      legacyDestinations: { [`${SITE}.gw-1`]: ['primary'] },
    });
    expect(readFileSync(join(out, `leaf-${SITE}/agents/gw-1.ini`), 'utf8')).toMatch(
      /^inbox_prefix = _INBOX_north\.gw-1$/m,
    );
    expect(readFileSync(join(out, 'services/ingest.ini'), 'utf8')).toMatch(/^inbox_prefix = _INBOX_ingest$/m);
    expect(readFileSync(join(out, 'consumers/dash.ini'), 'utf8')).toMatch(/^inbox_prefix = _INBOX_dash$/m);
    const hubConf = readFileSync(join(out, 'hub/authorization.conf'), 'utf8');
    expect(hubConf).toMatch(/"leaf-north"[\s\S]*allowed_connection_types: \["LEAFNODE"\]/);
    expect(hubConf).not.toContain('"_INBOX.>"');
    expect(readFileSync(join(out, `leaf-${SITE}/authorization.conf`), 'utf8')).toContain(
      '$JS.API.CONSUMER.CREATE.MESH_north.legacy_gw-1_primary.mesh.v1.north.gw-1.>',
    );
    const base = { sites: { [SITE]: ['gw-1'] }, hubLeafUrls: [], hubUrl: '', leafUrl: '', tls: {}, rotate: false };
    expect(() =>
      generateCreds({ ...base, outDir: join(dir, 'x1'), consumers: [{ name: 'ingest', profile: 'consumer-full' }] }),
    ).toThrow(/taken by a service/);
    expect(() =>
      generateCreds({ ...base, outDir: join(dir, 'x2'), consumers: [{ name: 'leaf-x', profile: 'consumer-full' }] }),
    ).toThrow(/taken/);
    expect(() =>
      generateCreds({ ...base, outDir: join(dir, 'x3'), consumers: [{ name: 'bot', profile: 'consumer-site' }] }),
    ).toThrow(/site id/);
    expect(() =>
      generateCreds({ ...base, outDir: join(dir, 'x4'), legacyDestinations: { 'north.gw-9': ['primary'] } }),
    ).toThrow(/no such <site>\.<agent>/);
  });

  it('parses --consumer and --legacy, and names what is wrong with them', async () => {
    const run = async (...args: string[]) => {
      const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
      register(program);
      program.commands[0]!.exitOverride();
      await program.parseAsync(['creds', '--site', 'north:gw-1', '-o', join(dir, 'cli'), ...args], { from: 'user' });
    };
    await expect(run('--consumer', 'bot:consumer-secret')).rejects.toThrow(/NAME:PROFILE\[:SITE\]/);
    await expect(run('--consumer', 'bot:consumer-site')).rejects.toThrow(/consumer-site takes a site/);
    await expect(run('--consumer', 'bot:consumer-full:north')).rejects.toThrow(/the others take none/);
    await expect(run('--legacy', 'gw-1:primary')).rejects.toThrow(/SITE\.AGENT:DESTINATION/);
  });
});
