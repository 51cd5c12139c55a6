import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectNats, NatsTlsError, natsSection, natsTls, parseConfig } from '@mmm/common';
import { subjects } from '@mmm/schemas';
import { freePort, httpOk, requireBinary, ServerProcess, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCreds } from './generate.js';
import { issueForCommand } from './tls-issue.js';
import { generatedTlsLayout } from './tls-render.js';

const SITE = 'north';
const BIN = fileURLToPath(new URL('../../../bin/mmm.js', import.meta.url));
const bin = requireBinary('nats-server', 'nats-server');
let root: string;
let out: string;
const procs: ServerProcess[] = [];
const open: NatsConnection[] = [];
const p = {
  a: 0,
  aMon: 0,
  aLeaf: 0,
  aRoute: 0,
  b: 0,
  bMon: 0,
  bRoute: 0,
  leaf: 0,
  leafMon: 0,
};

/** Runs `mmm creds --tls-generate` as the command does: configs and snippets, then the CA and certificates. */
async function makeCreds(dir: string, verifyClients: boolean, sites: Record<string, string[]>) {
  const o = {
    outDir: dir,
    sites,
    hubLeafUrls: [`nats-leaf://127.0.0.1:${p.aLeaf}`],
    hubUrl: `nats://127.0.0.1:${p.a},nats://127.0.0.1:${p.b}`,
    leafUrl: `nats://127.0.0.1:${p.leaf}`,
    tls: generatedTlsLayout(dir, verifyClients),
    rotate: false,
  };
  const r = generateCreds(o);
  const t = await issueForCommand({
    outDir: dir,
    site: sites,
    hubUrl: o.hubUrl,
    hubLeafUrl: o.hubLeafUrls,
    leafUrl: o.leafUrl,
    tlsHost: ['hub-2.example.org'],
    tlsVerifyClients: verifyClients,
    users: [...r.created, ...r.kept],
  });
  return { ...r, ...t };
}

function start(name: string, conf: string, mon: number, text: string): Promise<ServerProcess> {
  writeFileSync(conf, text);
  const proc = new ServerProcess(name, bin, ['-c', conf], () => httpOk(`http://127.0.0.1:${mon}/healthz`));
  procs.push(proc);
  return proc.start().then(() => proc);
}

const hubConf = (name: string, port: number, mon: number, route: number, peer: number, leafPort?: number) =>
  `server_name: ${name}
listen: 127.0.0.1:${port}
http: 127.0.0.1:${mon}
include "authorization.conf"
include "tls.conf"
${leafPort ? `leafnodes {\n  listen: 127.0.0.1:${leafPort}\n  include "leafnodes-authorization.conf"\n}` : ''}
cluster {
  name: hub
  listen: 127.0.0.1:${route}
  routes: ["nats-route://127.0.0.1:${peer}"]
  include "cluster-tls.conf"
}
`;

/** The `[nats]` section of a written snippet, read through the same spec and TLS check the services use. */
function snippet(rel: string, dir = out) {
  const file = join(dir, rel);
  const n = parseConfig(
    {
      sections: {
        nats: { ...natsSection, fields: { ...natsSection.fields, site: { type: 'string', description: 'site' } } },
      },
    },
    readFileSync(file, 'utf8'),
    file,
  ).nats;
  return {
    servers: n.url.split(','),
    user: n.user,
    pass: n.password,
    tls: natsTls(n, file),
  };
}

async function monitor<T>(port: number, path: string): Promise<T> {
  return (await (await fetch(`http://127.0.0.1:${port}${path}`)).json()) as T;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'mmm-tls-'));
  out = join(root, 'out');
  for (const k of Object.keys(p) as (keyof typeof p)[]) p[k] = await freePort();
  await makeCreds(out, false, { [SITE]: ['gw-1'] });
  // Two hub nodes routed over TLS, node a also takes the leafnode links.
  await start('hub-a', join(out, 'hub/a.conf'), p.aMon, hubConf('hub-a', p.a, p.aMon, p.aRoute, p.bRoute, p.aLeaf));
  await start('hub-b', join(out, 'hub/b.conf'), p.bMon, hubConf('hub-b', p.b, p.bMon, p.bRoute, p.aRoute));
  await start(
    'leaf',
    join(out, `leaf-${SITE}/leaf.conf`),
    p.leafMon,
    `listen: 127.0.0.1:${p.leaf}\nhttp: 127.0.0.1:${p.leafMon}\ninclude "authorization.conf"\ninclude "tls.conf"\ninclude "leafnodes.conf"\n`,
  );
}, 120_000);

afterAll(async () => {
  for (const nc of open) await nc.close().catch(() => {});
  for (const proc of procs.reverse()) await proc.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('mmm creds --tls-generate', () => {
  it('makes a CA and certificates naming every hub node, keys mode 0600, and keeps them on a rerun', async () => {
    const hub = new X509Certificate(readFileSync(join(out, 'hub/tls/server.pem')));
    const ca = new X509Certificate(readFileSync(join(out, 'tls/ca.pem')));
    expect(hub.verify(ca.publicKey)).toBe(true);
    expect(ca.ca).toBe(true);
    expect(hub.subjectAltName).toContain('DNS:hub-2.example.org');
    expect(hub.subjectAltName).toContain('IP Address:127.0.0.1');
    for (const f of ['tls/ca.key', 'hub/tls/server.key', `leaf-${SITE}/tls/leafnode-client.key`])
      expect(statSync(join(out, f)).mode & 0o777, f).toBe(0o600);
    const again = await makeCreds(out, false, { [SITE]: ['gw-1'] });
    expect(again.issued).toEqual([]);
    expect(again.kept).toContain(join(out, 'hub/tls/server.pem'));
    expect(readFileSync(join(out, 'services/ingest.ini'), 'utf8')).toContain(`tls_ca = ${join(out, 'tls/ca.pem')}`);
  });

  it('a service connects to the hub over TLS, verifying it with the CA from its snippet', async () => {
    const nc = await connectNats({ ...snippet('services/admin.ini'), name: 'tls-admin', connectTimeoutMs: 60_000 });
    open.push(nc);
    expect(nc.info?.tls_required).toBe(true);
    await nc.flush();
  });

  it('fails with NatsTlsError, at once, when the CA did not sign the server certificate', async () => {
    const other = join(root, 'other');
    await makeCreds(other, false, { [SITE]: ['gw-1'] });
    const s = snippet('services/admin.ini');
    // A connect timeout far beyond the test's: only the early TLS verdict can end this call in time.
    const err = await connectNats({
      ...s,
      name: 'tls-wrong-ca',
      tls: { caFile: join(other, 'tls/ca.pem') },
      connectTimeoutMs: 600_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NatsTlsError);
    expect((err as Error).name).toBe('NatsTlsError');
    expect((err as Error).message).toMatch(/TLS with NATS at .* failed: (UNABLE_TO|SELF_SIGNED|CERT_)/);
  });

  it('refuses plain TCP on a TLS-only port', async () => {
    const s = snippet('services/admin.ini');
    // nats.js told not to use TLS gives up on the server's tls_required.
    await expect(
      connect({ servers: s.servers[0], user: s.user, pass: s.pass, tls: null, maxReconnectAttempts: 0 }),
    ).rejects.toThrow(/tls/i);
    // A raw client that ignores tls_required gets no PONG: the server closes the connection.
    const reply = await new Promise<string>((resolve, reject) => {
      let buf = '';
      let sent = false;
      const sock = tcpConnect(p.a, '127.0.0.1');
      sock.on('data', (d) => {
        buf += d.toString();
        if (buf.includes('\r\n') && !sent) {
          sent = true;
          sock.write(`CONNECT {"user":${JSON.stringify(s.user)},"pass":${JSON.stringify(s.pass)}}\r\nPING\r\n`);
        }
      });
      sock.on('close', () => resolve(buf));
      sock.on('error', reject);
      setTimeout(() => sock.destroy(), 30_000);
    });
    expect(reply).toMatch(/"tls_required":true/);
    expect(reply).not.toContain('PONG');
  });

  it('links the leaf to the hub over a verified TLS leafnode link, and routes hub-a to hub-b over TLS', async () => {
    const leafz = await waitFor(
      'TLS leafnode link',
      async () => {
        const z = await monitor<{ leafs?: { name?: string }[] }>(p.aMon, '/leafz');
        return z.leafs?.length ? z : undefined;
      },
      30_000,
    );
    expect(leafz.leafs).toHaveLength(1);
    const routes = await waitFor(
      'TLS route',
      async () => {
        const z = await monitor<{ num_routes: number }>(p.bMon, '/routez');
        return z.num_routes > 0 ? z : undefined;
      },
      30_000,
    );
    expect(routes.num_routes).toBeGreaterThan(0);
    const varz = await monitor<{ cluster: { tls_required?: boolean; tls_verify?: boolean } }>(p.aMon, '/varz');
    expect(varz.cluster.tls_required).toBe(true);
    expect(varz.cluster.tls_verify).toBe(true);

    // An agent publishes on its leaf over TLS; admin, on hub node b, receives it: leafnode link and route carried it.
    const admin = await connectNats({
      ...snippet('services/admin.ini'),
      servers: [`nats://127.0.0.1:${p.b}`],
      name: 'tls-admin-b',
    });
    open.push(admin);
    const sub = admin.subscribe(subjects.siteAll(SITE));
    await admin.flush();
    const agent = await connectNats({ ...snippet(`leaf-${SITE}/agents/gw-1.ini`), name: 'tls-agent' });
    open.push(agent);
    expect(agent.info?.tls_required).toBe(true);
    const subject = subjects.rx(SITE, 'gw-1', 'text');
    const first = (async () => {
      for await (const m of sub) return m.subject;
    })();
    // Interest crosses the route and the leafnode link asynchronously: publish until one arrives.
    const got = await waitFor(
      'message from the leaf on hub-b',
      async () => {
        agent.publish(subject, new TextEncoder().encode('{}'));
        return Promise.race([first, new Promise<undefined>((r) => setTimeout(r, 500))]);
      },
      30_000,
    );
    expect(got).toBe(subject);
  });

  it('the hub refuses a leaf that presents no client certificate', async () => {
    const [port, mon] = [await freePort(), await freePort()];
    const text = readFileSync(join(out, `leaf-${SITE}/leafnodes.conf`), 'utf8').replace(
      /\s*(cert|key)_file: .*\n/g,
      '\n',
    );
    writeFileSync(join(out, `leaf-${SITE}/nocert-leafnodes.conf`), text);
    const rogue = await start(
      'leaf-nocert',
      join(out, `leaf-${SITE}/nocert.conf`),
      mon,
      `listen: 127.0.0.1:${port}\nhttp: 127.0.0.1:${mon}\ninclude "nocert-leafnodes.conf"\n`,
    );
    const hubA = procs[0]!;
    await waitFor('hub refusing the handshake', () => /didn't provide a certificate/.test(hubA.log), 30_000);
    const z = await monitor<{ leafs?: unknown[] }>(p.aMon, '/leafz');
    expect(z.leafs).toHaveLength(1);
    await rogue.stop();
  });

  it('refuses a leaf that trusts another CA, and a hub node whose certificate another CA signed', async () => {
    const other = join(root, 'other');
    await makeCreds(other, false, { [SITE]: ['gw-1'] }); // kept if the wrong-CA test made it already
    // The leaf's remote verifies the hub against the other CA: the hub's certificate fails there.
    const [lp, lm, cp, cm, cr] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const remote = readFileSync(join(out, `leaf-${SITE}/leafnodes.conf`), 'utf8').replace(
      /ca_file: .*/,
      `ca_file: ${JSON.stringify(join(other, 'tls/ca.pem'))}`,
    );
    writeFileSync(join(out, `leaf-${SITE}/wrongca-leafnodes.conf`), remote);
    const leaf = await start(
      'leaf-wrongca',
      join(out, `leaf-${SITE}/wrongca.conf`),
      lm,
      `listen: 127.0.0.1:${lp}\nhttp: 127.0.0.1:${lm}\ninclude "wrongca-leafnodes.conf"\n`,
    );
    await waitFor(
      'leaf rejecting the hub certificate',
      () => /certificate signed by unknown authority/.test(leaf.log),
      30_000,
    );
    // A third hub node with the other CA's certificate and CA tries to route to hub-a.
    const rogue = await start(
      'hub-rogue',
      join(other, 'hub/rogue.conf'),
      cm,
      hubConf('hub-rogue', cp, cm, cr, p.aRoute),
    );
    await waitFor('route refused', () => /TLS route handshake error/i.test(rogue.log + procs[0]!.log), 30_000);
    const z = await monitor<{ leafs?: unknown[] }>(p.aMon, '/leafz');
    expect(z.leafs).toHaveLength(1);
    const routes = await monitor<{ routes: { remote_id?: string }[] }>(p.aMon, '/routez');
    expect(routes.routes).toHaveLength(1);
    await leaf.stop();
    await rogue.stop();
  });

  it('with --tls-verify-clients the client port takes only clients with a certificate from the CA (provisioning too)', async () => {
    const dir = join(root, 'mtls');
    await makeCreds(dir, true, { [SITE]: ['gw-1'] });
    const [port, mon] = [await freePort(), await freePort()];
    const hub = await start(
      'hub-mtls',
      join(dir, 'hub/hub.conf'),
      mon,
      `listen: 127.0.0.1:${port}\nhttp: 127.0.0.1:${mon}\njetstream { store_dir: ${JSON.stringify(join(dir, 'js'))} }\ninclude "authorization.conf"\ninclude "tls.conf"\n`,
    );
    const s = { ...snippet('services/ingest.ini', dir), servers: [`nats://127.0.0.1:${port}`] };
    expect(s.tls?.certFile).toBe(join(dir, 'tls/clients/ingest.pem'));
    const nc = await connectNats({ ...s, name: 'mtls-ingest', connectTimeoutMs: 60_000 });
    open.push(nc);
    await nc.flush();
    // The right CA but no client certificate: the server ends the handshake and says why.
    await expect(
      connect({
        servers: s.servers,
        user: s.user,
        pass: s.pass,
        tls: { caFile: s.tls?.caFile },
        timeout: 5_000,
        maxReconnectAttempts: 0,
      }),
    ).rejects.toThrow();
    await waitFor('server refusing the client', () => /didn't provide a certificate/.test(hub.log), 30_000);
    // Provisioning is the admin's job: the command takes the admin's certificate too.
    const admin = snippet('services/admin.ini', dir);
    const r = spawnSync(
      'node',
      [
        BIN,
        'streams',
        'provision',
        '--hub',
        `nats://127.0.0.1:${port}`,
        '--site',
        SITE,
        '--user',
        admin.user!,
        '--password',
        admin.pass!,
        '--tls-ca',
        admin.tls!.caFile!,
        '--tls-cert',
        admin.tls!.certFile!,
        '--tls-key',
        admin.tls!.keyFile!,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^MESH: /m);
  });

  it('renews only the certificate whose names changed (a hub node added)', async () => {
    const r = await issueForCommand({
      outDir: out,
      site: { [SITE]: ['gw-1'] },
      hubUrl: `nats://127.0.0.1:${p.a}`,
      hubLeafUrl: [`nats-leaf://127.0.0.1:${p.aLeaf}`],
      leafUrl: `nats://127.0.0.1:${p.leaf}`,
      tlsHost: ['hub-2.example.org', 'hub-3.example.org', '2001:db8::3'],
      users: [],
    });
    expect(r.issued).toEqual([join(out, 'hub/tls/server.pem')]);
    const hub = new X509Certificate(readFileSync(join(out, 'hub/tls/server.pem')));
    expect(hub.subjectAltName).toContain('DNS:hub-3.example.org');
    expect(hub.subjectAltName).toContain('IP Address:2001:DB8:0:0:0:0:0:3');
  });
});
