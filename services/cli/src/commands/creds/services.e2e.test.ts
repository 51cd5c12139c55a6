import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  agentConfigSpec,
  provisionHub,
  provisionHubConsumers,
  provisionSite,
  type RunningAgent,
  resolveSettings,
  startAgent,
} from '@mmm/agent';
import { parseAlertsConfig, type RunningAlerts, startAlerts } from '@mmm/alerts';
import { type ApiService, apiConfigSpec, startApi } from '@mmm/api';
import { createLogger, parseConfig } from '@mmm/common';
import { ingestConfigSpec, type RunningIngest, SqliteStore, startIngest } from '@mmm/ingest';
import { type RunningRouteAnalysis, routeAnalysisConfig, startRouteAnalysis } from '@mmm/route-analysis';
import { type AgentStatus, consumers, streams } from '@mmm/schemas';
import { type Simulator, startSimulator } from '@mmm/simulator';
import { freePort, httpOk, requireBinary, ServerProcess, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCreds } from './generate.js';
import { readState } from './store.js';

/**
 * The real services with exactly the credentials `mmm creds` writes, against a hub and a leaf that the admins
 * provisioned with `mmm streams provision` / `provision-site`: the agent (with a legacy relay), ingest, route-analysis
 * and the API all start, do their work, and neither server logs a single permissions violation.
 */

const SITE = 'north';
const AGENT = 'gw-1';
const log = () => createLogger({ name: 'perms-e2e', level: process.env.MMM_TEST_LOG ?? 'silent' });

let root: string;
let out: string;
let hub: ServerProcess;
let leaf: ServerProcess;
let sim: Simulator;
let legacyHttp: Server;
const posts: string[] = [];
const ports = { hub: 0, hubMon: 0, leafnode: 0, leaf: 0, leafMon: 0, legacy: 0 };
const admins: NatsConnection[] = [];
let agent: RunningAgent | undefined;
let ingest: RunningIngest | undefined;
let ra: RunningRouteAnalysis | undefined;
let alerts: RunningAlerts | undefined;
let api: ApiService | undefined;

const snippet = (rel: string) => readFileSync(join(out, rel), 'utf8');
const secret = (user: string) => readState(join(out, 'creds.json')).users[user]!.password;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'mmm-perms-e2e-'));
  out = join(root, 'creds');
  [ports.hub, ports.hubMon, ports.leafnode, ports.leaf, ports.leafMon] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  generateCreds({
    outDir: out,
    sites: { [SITE]: [AGENT] },
    hubLeafUrls: [`nats-leaf://127.0.0.1:${ports.leafnode}`],
    hubUrl: `nats://127.0.0.1:${ports.hub}`,
    leafUrl: `nats://127.0.0.1:${ports.leaf}`,
    tls: {},
    rotate: false,
    legacyDestinations: { [`${SITE}.${AGENT}`]: ['primary'] },
  });
  writeFileSync(
    join(out, 'hub/hub.conf'),
    `server_name: hub\nlisten: 127.0.0.1:${ports.hub}\nhttp: 127.0.0.1:${ports.hubMon}\njetstream { store_dir: ${JSON.stringify(join(root, 'hubjs'))}, domain: hub }\ninclude "authorization.conf"\nleafnodes {\n  listen: 127.0.0.1:${ports.leafnode}\n  include "leafnodes-authorization.conf"\n}\n`,
  );
  writeFileSync(
    join(out, `leaf-${SITE}/leaf.conf`),
    `server_name: leaf-${SITE}\nlisten: 127.0.0.1:${ports.leaf}\nhttp: 127.0.0.1:${ports.leafMon}\njetstream { store_dir: ${JSON.stringify(join(root, 'leafjs'))}, domain: ${SITE} }\ninclude "authorization.conf"\ninclude "leafnodes.conf"\n`,
  );
  const bin = requireBinary('nats-server', 'nats-server');
  hub = new ServerProcess('hub', bin, ['-c', join(out, 'hub/hub.conf')], () =>
    httpOk(`http://127.0.0.1:${ports.hubMon}/healthz?js-enabled-only=true`),
  );
  leaf = new ServerProcess('leaf', bin, ['-c', join(out, `leaf-${SITE}/leaf.conf`)], () =>
    httpOk(`http://127.0.0.1:${ports.leafMon}/healthz?js-enabled-only=true`),
  );
  await hub.start();
  await leaf.start();

  // The admins provision; nobody else creates anything.
  const siteAdmin = await connect({
    servers: `nats://127.0.0.1:${ports.leaf}`,
    user: `admin-${SITE}`,
    pass: secret(`admin-${SITE}`),
  });
  const admin = await connect({ servers: `nats://127.0.0.1:${ports.hub}`, user: 'admin', pass: secret('admin') });
  admins.push(siteAdmin, admin);
  await provisionSite(await siteAdmin.jetstreamManager(), SITE);
  const jsm = await admin.jetstreamManager();
  await provisionHub(jsm, { sites: [SITE], hubSites: ['legacy'] });
  await provisionHubConsumers(jsm, admin.jetstream());

  legacyHttp = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      posts.push(`${req.url} ${body.length}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
  });
  await new Promise<void>((r) => legacyHttp.listen(0, '127.0.0.1', r));
  ports.legacy = (legacyHttp.address() as { port: number }).port;
  sim = await startSimulator({ seed: 5, nodes: 10, rate: 30 });
}, 120_000);

afterAll(async () => {
  await agent?.stop().catch(() => {});
  await api?.close().catch(() => {});
  await ra?.stop().catch(() => {});
  await alerts?.stop().catch(() => {});
  await ingest?.stop().catch(() => {});
  for (const nc of admins) await nc.close().catch(() => {});
  await sim?.stop();
  await new Promise((r) => legacyHttp?.close(r));
  await leaf?.stop();
  await hub?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('the services with least-privilege credentials', () => {
  it('run against an admin-provisioned hub and leaf with no permissions violation', async () => {
    const agentIni = `${snippet(`leaf-${SITE}/agents/${AGENT}.ini`)}[agent]\nid = ${AGENT}\nlocation_name = Bench\n[meshtastic]\nconnection_type = tcp\ntcp_host = 127.0.0.1:${sim.port}\nheartbeat_interval = 5\n[server_primary]\nurl = http://127.0.0.1:${ports.legacy}/\napi_key = k\nreport_interval = 1\n`;
    agent = await startAgent(resolveSettings(parseConfig(agentConfigSpec, agentIni, 'agent.ini', { env: {} })), {
      log: log(),
    });

    const historyDb = join(root, 'history.db');
    ingest = await startIngest(
      parseConfig(
        ingestConfigSpec,
        `${snippet('services/ingest.ini')}[sqlite]\npath = ${historyDb}\n[ingest]\nops_port = 0\n`,
        'ingest.ini',
        {
          env: {},
        },
      ),
      log(),
    );
    ra = await startRouteAnalysis(
      parseConfig(
        routeAnalysisConfig,
        `${snippet('services/route-analysis.ini')}[route_analysis]\nflush_interval = 200\nlinks_interval = 0\n[ops]\nenabled = false\n`,
        'route-analysis.ini',
        { env: {} },
      ),
      { log: log() },
    );
    api = await startApi(
      parseConfig(
        apiConfigSpec,
        `${snippet('services/api.ini')}[server]\nport = 0\n[database]\npath = ${join(root, 'api.db')}\n[web]\ndir = ${join(root, 'no-web')}\n[history]\nsqlite_path = ${historyDb}\n[api_keys]\nold-agent = legacy-key-1\n`,
        'api.ini',
        { env: {} },
      ),
      log(),
    );

    alerts = await startAlerts(
      parseAlertsConfig(
        `${snippet('services/alerts.ini')}[rule_new-node]\nkind = new_node\n[ops]\nenabled = false\n`,
        'alerts.ini',
      ),
      { log: log() },
    );

    // Agent -> leaf stream -> sourced over the restricted link into MESH -> ingest's SQLite.
    const store = new SqliteStore(historyDb);
    try {
      await waitFor(
        'receptions stored by ingest',
        () => (store.db.prepare('SELECT count(*) AS n FROM receptions').get() as { n: number }).n > 20,
        90_000,
      );
    } finally {
      await store.close();
    }
    // The API's projection durables consume MESH: the agent shows up.
    await waitFor(
      'the agent in the API',
      async () => {
        const r = await fetch(`http://127.0.0.1:${api!.port}/api/agents`);
        return r.ok && (await r.text()).includes(AGENT);
      },
      60_000,
    );
    // Route-analysis re-created its own durable and reads MESH.
    await waitFor('route-analysis consuming', () => ra!.stats().lastSeq > 0 && ra!.ready(), 60_000);
    // The alerts service re-created its own durable, reads MESH and lists its rules, which the API reads.
    await waitFor('alerts consuming', () => alerts!.stats().events > 0 && alerts!.ready(), 60_000);
    await waitFor(
      'the rules through the API',
      async () => (await (await fetch(`http://127.0.0.1:${api!.port}/api/alerts/rules`)).text()).includes('new-node'),
      30_000,
    );
    // The legacy relay pulled and acked its own pinned consumer.
    await waitFor('the legacy destination got data', () => posts.length > 1, 60_000);
    const siteJsm = await admins[0]!.jetstreamManager();
    await waitFor(
      'the relay acked',
      async () =>
        (await siteJsm.consumers.info(streams.site(SITE), consumers.legacy(AGENT, 'primary'))).ack_floor.stream_seq > 0,
      60_000,
    );

    // The original agents' HTTP API republishes as the legacy site, which MESH captures on the hub.
    const reg = await fetch(`http://127.0.0.1:${api.port}/api/agent/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'legacy-key-1' },
      body: JSON.stringify({ agent_id: 'old-agent', location: { name: 'Old', coordinates: [52.5, 13.4] } }),
    });
    expect(reg.status).toBe(200);
    const hubJsm = await admins[1]!.jetstreamManager();
    await waitFor(
      'the legacy status in MESH',
      () =>
        hubJsm.streams
          .getMessage(streams.hub, { last_by_subj: 'mesh.v1.legacy.old-agent.status' })
          .then(() => true)
          .catch(() => false),
      30_000,
    );
    // The agent asked the hub, through the restricted link and with its own credentials, how far the sourcing is.
    await agent!.publishStatus();
    const status = await waitFor('a status of the agent that says the hub is linked', async () => {
      const m = await hubJsm.streams.getMessage(streams.hub, { last_by_subj: `mesh.v1.${SITE}.${AGENT}.status` });
      const st = m.json<AgentStatus>();
      return st.buffer.hubConnected === true ? st : undefined;
    });
    expect(status.buffer.hubBacklog).toBeGreaterThanOrEqual(0);

    for (const s of [hub, leaf]) expect(s.log, `${s.name} log`).not.toMatch(/Violation/);
  });

  it('fails at start naming the provisioning command when what a service needs is missing', async () => {
    const jsm = await admins[1]!.jetstreamManager();
    await jsm.consumers.delete(streams.hub, consumers.ingest);
    await expect(
      startIngest(
        parseConfig(
          ingestConfigSpec,
          `${snippet('services/ingest.ini')}[sqlite]\npath = ${join(root, 'other.db')}\n[ingest]\nops_port = 0\n`,
          'ingest.ini',
          { env: {} },
        ),
        log(),
      ),
    ).rejects.toThrow(
      /consumer ingest on stream MESH does not exist and this NATS user may not create it: .*mmm streams provision/,
    );

    await agent?.stop();
    agent = undefined;
    // A legacy destination its credential does not name.
    const withBackup = `${snippet(`leaf-${SITE}/agents/${AGENT}.ini`)}[agent]\nid = ${AGENT}\nlocation_name = Bench\n[meshtastic]\nconnection_type = tcp\ntcp_host = 127.0.0.1:${sim.port}\n[server_backup]\nurl = http://127.0.0.1:${ports.legacy}/\napi_key = k\n`;
    await expect(
      startAgent(resolveSettings(parseConfig(agentConfigSpec, withBackup, 'agent.ini', { env: {} })), { log: log() }),
    ).rejects.toThrow(
      /legacy_gw-1_backup: add the destination to its credential with `mmm creds --legacy north\.gw-1:backup`/,
    );

    await (await admins[0]!.jetstreamManager()).streams.delete(streams.site(SITE));
    const agentIni = `${snippet(`leaf-${SITE}/agents/${AGENT}.ini`)}[agent]\nid = ${AGENT}\nlocation_name = Bench\n[meshtastic]\nconnection_type = tcp\ntcp_host = 127.0.0.1:${sim.port}\n`;
    await expect(
      startAgent(resolveSettings(parseConfig(agentConfigSpec, agentIni, 'agent.ini', { env: {} })), { log: log() }),
    ).rejects.toThrow(
      /stream MESH_north does not exist and this NATS user may not create it: .*mmm streams provision-site/,
    );
  });
});
