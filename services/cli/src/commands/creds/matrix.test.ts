import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { provisionHub, provisionHubConsumers, provisionSite } from '@mmm/agent';
import { consumers, streams } from '@mmm/schemas';
import { freePort, httpOk, requireBinary, ServerProcess, waitFor } from '@mmm/testkit';
import { AckPolicy, connect, DeliverPolicy, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCreds } from './generate.js';
import {
  ACTIONS,
  type Action,
  EXAMPLE as E,
  PROFILES,
  type Profile,
  permits,
  renderMatrix,
  withMatrix,
} from './matrix.js';
import { readState } from './store.js';

/**
 * Every cell of the "who may do what" matrix against a real hub and a real leaf configured with what `mmm creds`
 * writes: a forbidden action must fail with a permissions violation, an allowed one must succeed.
 */

type Verdict = 'ok' | 'denied' | 'no reply';

let dir: string;
let hub: ServerProcess;
let leaf: ServerProcess;
const ports = { hub: 0, hubMon: 0, leafnode: 0, leaf: 0, leafMon: 0 };
const conns = new Map<string, { nc: NatsConnection; violations: string[] }>();
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

async function login(user: string, port: number): Promise<{ nc: NatsConnection; violations: string[] }> {
  const key = `${user}@${port}`;
  const have = conns.get(key);
  if (have) return have;
  const password = readState(join(dir, 'creds.json')).users[user]!.password;
  const nc = await connect({
    servers: `nats://127.0.0.1:${port}`,
    user,
    pass: password,
    inboxPrefix: `_INBOX_${user}`,
    maxReconnectAttempts: 0,
  });
  const violations: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
      if (ctx) violations.push(`${ctx.operation} ${ctx.subject}`);
    }
  })();
  const c = { nc, violations };
  conns.set(key, c);
  return c;
}

const portOf = (p: Profile) => (p.place === 'leaf' ? ports.leaf : ports.hub);

/** A request body the server accepts for the subject, so an allowed request gets a real JetStream answer. */
function body(subject: string): Uint8Array {
  const create = /^\$JS\.API\.CONSUMER\.CREATE\.([^.]+)(?:\.([^.]+)(?:\.(.+))?)?$/.exec(subject);
  if (create) {
    const [, stream, name, filter] = create;
    return enc({
      stream_name: stream,
      config: {
        ...(name ? { name } : {}),
        ...(filter ? { filter_subject: filter } : {}),
        ack_policy: 'none',
        inactive_threshold: 10_000_000_000,
      },
    });
  }
  if (subject.includes('.MSG.NEXT.')) return enc({ batch: 1, no_wait: true });
  return new Uint8Array();
}

async function runClient(p: Profile, a: Action): Promise<Verdict> {
  const { nc, violations } = await login(p.user, portOf(p));
  const subject = a.subject(p);
  const seen = violations.length;
  if (a.op === 'sub') {
    const sub = nc.subscribe(subject);
    await nc.flush();
    // The server answers a SUB before the PONG of the flush: a violation, if any, is in by now.
    await new Promise((r) => setTimeout(r, 50));
    sub.unsubscribe();
  } else if (subject.startsWith('$JS.API.')) {
    try {
      await nc.request(subject, body(subject), { timeout: 5000, noMux: true });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'PERMISSIONS_VIOLATION') return 'denied';
      return 'no reply';
    }
    return 'ok';
  } else {
    nc.publish(subject, enc({}));
    await nc.flush();
    await new Promise((r) => setTimeout(r, 50));
  }
  const denied = violations.slice(seen).some((v) => v.endsWith(` ${subject}`));
  return denied ? 'denied' : 'ok';
}

/**
 * Through the leafnode link: does a message published on one side reach a subscriber on the other? "pub" cells go
 * leaf -> hub, "sub" cells hub -> leaf. A marker the link certainly carries, published after the probe on the same
 * link, arrives after it: once the marker is in, the probe is in too or was refused.
 */
async function runLink(a: Action): Promise<Verdict> {
  const subject = a.subject(PROFILES.find((p) => p.place === 'link')!);
  const siteAdmin = (await login(`admin-${E.site}`, ports.leaf)).nc;
  const admin = (await login('admin', ports.hub)).nc;
  const [from, to] = a.op === 'pub' ? [siteAdmin, admin] : [admin, siteAdmin];
  const marker = a.op === 'pub' ? `mesh.v1.${E.site}.marker.status` : `$JS.FC.${streams.site(E.site)}.marker.x`;
  // Each server maps its domain's API (`$JS.<site>.API.>` on the leaf, `$JS.hub.API.>` on the hub) onto its own
  // `$JS.API.>` as requests come in.
  const arrives = subject.replace(/^\$JS\.[^.]+\.API\./, '$JS.API.');
  const got = new Set<string>();
  const subs = [to.subscribe(arrives), to.subscribe(marker)];
  for (const s of subs)
    void (async () => {
      for await (const m of s) got.add(m.subject);
    })();
  await to.flush();
  await waitFor(
    'the marker through the link',
    async () => {
      from.publish(subject, new Uint8Array());
      from.publish(marker, new Uint8Array());
      await from.flush();
      await new Promise((r) => setTimeout(r, 100));
      return got.has(marker);
    },
    20_000,
  );
  for (const s of subs) s.unsubscribe();
  return got.has(arrives) ? 'ok' : 'denied';
}

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'mmm-perms-'));
  [ports.hub, ports.hubMon, ports.leafnode, ports.leaf, ports.leafMon] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  dir = join(root, 'out');
  generateCreds({
    outDir: dir,
    sites: { [E.site]: [E.agent, E.otherAgent], [E.otherSite]: [E.otherSiteAgent] },
    hubLeafUrls: [`nats-leaf://127.0.0.1:${ports.leafnode}`],
    hubUrl: `nats://127.0.0.1:${ports.hub}`,
    leafUrl: `nats://127.0.0.1:${ports.leaf}`,
    tls: {},
    rotate: false,
    consumers: [
      { name: E.readers.full, profile: 'consumer-full' },
      { name: E.readers.public, profile: 'consumer-public' },
      { name: E.readers.site, profile: 'consumer-site', site: E.site },
    ],
    legacyDestinations: { [`${E.site}.${E.agent}`]: [E.legacy], [`${E.site}.${E.otherAgent}`]: [E.legacy] },
  });
  writeFileSync(
    join(dir, 'hub/hub.conf'),
    `server_name: hub\nlisten: 127.0.0.1:${ports.hub}\nhttp: 127.0.0.1:${ports.hubMon}\njetstream { store_dir: ${JSON.stringify(join(root, 'hubjs'))}, domain: hub }\ninclude "authorization.conf"\nleafnodes {\n  listen: 127.0.0.1:${ports.leafnode}\n  include "leafnodes-authorization.conf"\n}\n`,
  );
  writeFileSync(
    join(dir, `leaf-${E.site}/leaf.conf`),
    `server_name: leaf-${E.site}\nlisten: 127.0.0.1:${ports.leaf}\nhttp: 127.0.0.1:${ports.leafMon}\njetstream { store_dir: ${JSON.stringify(join(root, 'leafjs'))}, domain: ${E.site} }\ninclude "authorization.conf"\ninclude "leafnodes.conf"\n`,
  );
  const bin = requireBinary('nats-server', 'nats-server');
  hub = new ServerProcess('hub', bin, ['-c', join(dir, 'hub/hub.conf')], () =>
    httpOk(`http://127.0.0.1:${ports.hubMon}/healthz?js-enabled-only=true`),
  );
  leaf = new ServerProcess('leaf', bin, ['-c', join(dir, `leaf-${E.site}/leaf.conf`)], () =>
    httpOk(`http://127.0.0.1:${ports.leafMon}/healthz?js-enabled-only=true`),
  );
  await hub.start();
  await leaf.start();
  await waitFor(
    'leafnode link',
    async () => {
      const b = (await (await fetch(`http://127.0.0.1:${ports.hubMon}/leafz`)).json()) as { leafnodes?: number };
      return (b.leafnodes ?? 0) > 0;
    },
    30_000,
  );
  // What the admins provision: the site stream (site admin), the hub streams, durables and buckets (admin).
  const siteAdmin = (await login(`admin-${E.site}`, ports.leaf)).nc;
  const siteJsm = await siteAdmin.jetstreamManager();
  await provisionSite(siteJsm, E.site);
  for (const agent of [E.agent, E.otherAgent]) {
    await siteJsm.consumers.add(streams.site(E.site), {
      durable_name: consumers.legacy(agent, E.legacy),
      filter_subject: `mesh.v1.${E.site}.${agent}.>`,
      ack_policy: AckPolicy.Explicit,
    });
  }
  const admin = (await login('admin', ports.hub)).nc;
  const jsm = await admin.jetstreamManager();
  await provisionHub(jsm, { sites: [E.site], hubSites: ['legacy'] });
  await provisionHubConsumers(jsm, admin.jetstream(), { publicReaders: [E.readers.public] });
  // Route-analysis and alerts make their durables themselves at start, as here; readers' once they made them.
  for (const name of [consumers.routeAnalysis, consumers.alerts, E.readers.full, E.readers.site])
    await jsm.consumers.add(streams.hub, { durable_name: name, ack_policy: AckPolicy.Explicit });
}, 120_000);

afterAll(async () => {
  for (const { nc } of conns.values()) await nc.close().catch(() => {});
  await leaf?.stop();
  await hub?.stop();
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

const profile = (id: string) => PROFILES.find((p) => p.id === id)!;
const action = (id: string) => ACTIONS.find((a) => a.id === id)!;

describe('who may do what', () => {
  it('the permission functions grant what the design requires and refuse what it forbids', () => {
    const expectCells = (p: string, cells: Record<string, boolean>) => {
      for (const [a, want] of Object.entries(cells)) expect(permits(profile(p), action(a)), `${p} / ${a}`).toBe(want);
    };
    expectCells('agent', {
      'pub-own': true,
      'consumer-restore': true,
      'ack-own': true,
      'pub-agent': false,
      'pub-site': false,
      'stream-update': false,
      'stream-delete': false,
      'consumer-any': false,
      'consumer-unnamed': false,
      'ack-foreign': false,
      'inbox-other-leaf': false,
      'inbox-all-leaf': false,
      'hub-sourcing': true,
      'cmd-own': true,
      'cmd-other': false,
      // It answers the requests it receives (allow_responses, matrix test below), nothing else in that inbox.
      'cmd-forge': false,
    });
    expectCells('consumer-public', {
      'live-nodedb': true,
      'live-topology': true,
      'pull-own': true,
      'live-text': false,
      'live-raw': false,
      // Its durables are made by the admin: a filter it chose could smuggle a `>` past a pattern's `*`.
      'own-consumer-nodedb': false,
      'own-consumer-text': false,
      'widen-filter': false,
    });
    expectCells('consumer-site', { 'widen-filter': false, 'pull-own': true });
    expectCells('consumer-site', { 'live-site': true, 'live-other-site': false, 'own-consumer-text': true });
    expectCells('consumer-full', { 'live-text': true, 'live-raw': true, 'own-consumer-text': true });
    expectCells('leaf-link', {
      'link-own': true,
      'link-sourced-own': true,
      'link-source-create': true,
      'link-other': false,
      'link-sourced-other': false,
      'link-stream-api': false,
      'link-hub-info': true,
      'link-hub-api': false,
      'link-inbox-own': true,
      'link-inbox-other': false,
      'link-cmd-own': true,
      'link-cmd-other': false,
      'link-cmd-answer': true,
    });
    for (const p of PROFILES.filter((x) => x.place === 'hub' && x.permissions)) {
      expectCells(p.id, {
        'hijack-ingest': false,
        'hub-stream-update': false,
        'inbox-all-hub': false,
        'forge-site': false,
        'live-text': p.id === 'consumer-full',
        // Only the alerts service talks to radios.
        'send-text': p.id === 'alerts',
      });
    }
  });

  const cells = PROFILES.flatMap((p) =>
    ACTIONS.filter((a) => permits(p, a) !== undefined && !(a.destructive && !p.permissions)).map(
      (a) => [p.id, a.id, permits(p, a) ? 'ok' : 'denied'] as const,
    ),
  );
  it.each(cells)('%s: %s -> %s on a real server', async (p, a, want) => {
    const verdict = profile(p).place === 'link' ? await runLink(action(a)) : await runClient(profile(p), action(a));
    expect(verdict).toBe(want);
  });

  it('the alerts service asks an agent across the restricted link, and the agent answers once (allow_responses)', async () => {
    const agent = await login(`${E.site}.${E.agent}`, ports.leaf);
    const alerts = await login('alerts', ports.hub);
    const subject = `mmm.cmd.${E.site}.${E.agent}.text`;
    const sub = agent.nc.subscribe(subject);
    void (async () => {
      for await (const m of sub) {
        m.respond(enc({ ok: true }));
        // A second answer to the same request is beyond allow_responses' one.
        m.respond(enc({ ok: false, error: 'second' }));
      }
    })();
    await agent.nc.flush();
    const reply = await waitFor(
      'an answer across the link',
      () =>
        alerts.nc
          .request(subject, enc({ key: 'k', text: 'probe' }), { timeout: 1000 })
          .then((m) => m.string())
          .catch(() => undefined),
      20_000,
      250,
    );
    expect(JSON.parse(reply)).toEqual({ ok: true });
    sub.unsubscribe();
  });

  it('sources the site stream through the restricted link, and the site stream survived every refused action', async () => {
    const agent = (await login(`${E.site}.${E.agent}`, ports.leaf)).nc;
    const ack = await agent.jetstream().publish(`mesh.v1.${E.site}.${E.agent}.nodedb`, enc({ probe: 1 }), {
      msgID: 'matrix-probe',
    });
    expect(ack.stream).toBe(streams.site(E.site));
    const jsm = await (await login('admin', ports.hub)).nc.jetstreamManager();
    await waitFor(
      'the probe in MESH',
      async () =>
        (await jsm.streams
          .getMessage(streams.hub, { last_by_subj: `mesh.v1.${E.site}.${E.agent}.nodedb` })
          .catch(() => undefined)) !== undefined,
      30_000,
    );
    const site = await (await (await login(`admin-${E.site}`, ports.leaf)).nc.jetstreamManager()).streams.info(
      streams.site(E.site),
    );
    expect(site.config.max_age).toBe(0);
  });

  it('a public reader follows node-DB snapshots through the durable the admin made, and cannot change or widen it', async () => {
    const nc = (await login(E.readers.public, ports.hub)).nc;
    const jsm = await nc.jetstreamManager();
    const name = `${E.readers.public}_nodedb`;
    const c = await nc.jetstream().consumers.get(streams.hub, name);
    const subject = await waitFor(
      'a node-DB snapshot',
      async () => {
        for await (const m of await c.fetch({ max_messages: 1, expires: 2000 })) {
          m.ack();
          return m.subject;
        }
        return undefined;
      },
      30_000,
    );
    expect(subject).toMatch(/\.nodedb$/);
    // Measured on nats-server 2.9.10: MESH (sourcing from a leaf domain) accepts the filter `mesh.v1.*.>.nodedb` and
    // delivers text with it, and a permission `...mesh.v1.*.*.nodedb` would let it through (`*` matches `>`). So the
    // public reader may create no consumer at all.
    for (const filter of ['mesh.v1.*.>.nodedb', 'mesh.v1.*.*.rx.text', 'mesh.v1.*.*.nodedb'])
      await expect(
        jsm.consumers.add(streams.hub, { durable_name: name, filter_subject: filter, ack_policy: AckPolicy.None }),
      ).rejects.toThrow(/permissions violation/i);
    await expect(jsm.consumers.delete(streams.hub, name)).rejects.toThrow(/permissions violation/i);

    // The same trick on a live subscription: the permission matches, but nats-server refuses the subject itself.
    const got: string[] = [];
    const errors: string[] = [];
    nc.subscribe('mesh.v1.*.>.nodedb', {
      callback: (err, m) => (err ? errors.push(err.message) : got.push(m.subject)),
    });
    const control = nc.subscribe(`mesh.v1.${E.site}.*.nodedb`);
    const controlGot = (async () => {
      for await (const m of control) return m.subject;
    })();
    await nc.flush();
    const agent = (await login(`${E.site}.${E.agent}`, ports.leaf)).nc;
    await waitFor(
      'the control subscription gets a node-DB event',
      async () => {
        agent.publish(`mesh.v1.${E.site}.${E.agent}.rx.text`, enc({ text: 'secret' }));
        agent.publish(`mesh.v1.${E.site}.${E.agent}.nodedb`, enc({}));
        await agent.flush();
        return Promise.race([controlGot, new Promise((r) => setTimeout(() => r(undefined), 200))]);
      },
      20_000,
    );
    expect(got.filter((s) => s.endsWith('.rx.text'))).toEqual([]);
  });
});

/** The `nats` lines of schemas/README.md's reader block, each with the user of its `# as <user>` heading. */
function readmeCommands(): { user: string; argv: string[] }[] {
  const readme = readFileSync(fileURLToPath(new URL('../../../../../schemas/README.md', import.meta.url)), 'utf8');
  const block = /```sh\n(# as [\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('schemas/README.md has no reader block');
  let user = '';
  const out: { user: string; argv: string[] }[] = [];
  for (const line of block.split('\n')) {
    const as = /^# as (\S+)/.exec(line);
    if (as) user = as[1]!;
    else if (line.startsWith('nats '))
      out.push({ user, argv: [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!) });
  }
  return out;
}

describe('schemas/README.md reader examples, as nats.js operations with each reader credential', () => {
  const commands = readmeCommands();
  it('covers every reader profile', () => {
    expect([...new Set(commands.map((c) => c.user))].sort()).toEqual(
      [E.readers.full, E.readers.public, E.readers.site].sort(),
    );
  });
  it.each(commands.map((c) => [c.user, c.argv.join(' '), c] as const))('%s: %s', async (_u, _line, c) => {
    const { nc, violations } = await login(c.user, ports.hub);
    const [, verb, sub, stream, name] = c.argv;
    const flag = (f: string) => c.argv[c.argv.indexOf(f) + 1];
    const seen = violations.length;
    if (verb === 'sub') {
      const s = nc.subscribe(c.argv[2]!);
      await nc.flush();
      await new Promise((r) => setTimeout(r, 50));
      s.unsubscribe();
    } else if (verb === 'consumer' && sub === 'add') {
      const jsm = await nc.jetstreamManager();
      await jsm.consumers.delete(stream!, name!).catch(() => {});
      const ci = await jsm.consumers.add(stream!, {
        durable_name: name!,
        filter_subject: flag('--filter'),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
      });
      expect(ci.config.filter_subject).toBe(flag('--filter'));
    } else if (verb === 'consumer' && sub === 'next') {
      const consumer = await nc.jetstream().consumers.get(stream!, name!);
      for await (const m of await consumer.fetch({ max_messages: Number(flag('--count') ?? 1), expires: 1000 }))
        m.ack();
      await nc.flush();
    } else throw new Error(`no translation for ${c.argv.join(' ')}`);
    await nc.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect(violations.slice(seen)).toEqual([]);
  });
});

describe('docs/operations.md', () => {
  it('holds the table the permission functions render (npm run permissions-table -w @mmm/cli rewrites it)', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../../../../docs/operations.md', import.meta.url)), 'utf8');
    expect(withMatrix(doc)).toBe(doc);
    expect(doc).toContain(renderMatrix());
  });
});
