import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { agentConfigSpec, ensureSiteStream, provisionHub } from '@mmm/agent';
import { apiConfigSpec } from '@mmm/api';
import { type ConfigSpec, parseConfig } from '@mmm/common';
import { ingestConfigSpec } from '@mmm/ingest';
import { routeAnalysisConfig } from '@mmm/route-analysis';
import { waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import {
  disposeAll,
  type ManifestServer,
  type Running,
  renderManifest,
  startRendered,
  waitMonitor,
} from './test-manifest-nats.js';

const DEPLOY = join(import.meta.dirname, '../../../../../deploy');
const COMPOSE = join(DEPLOY, 'compose/compose.yaml');
// Parsed YAML of arbitrary shape: the checks below probe it field by field.
// biome-ignore lint/suspicious/noExplicitAny: untyped manifest data
type Obj = Record<string, any>;

/** The INI spec of each service command, to load every shipped config exactly as the service would. */
const SPECS: Record<string, ConfigSpec> = {
  agent: agentConfigSpec,
  ingest: ingestConfigSpec,
  'route-analysis': routeAnalysisConfig,
  api: apiConfigSpec,
};
function checkIni(service: string, text: string, where: string): void {
  const spec = SPECS[service];
  expect(spec, `no spec for ${service} (${where})`).toBeDefined();
  expect(() => parseConfig(spec!, text, where, { env: {} }), where).not.toThrow();
}

/** nats-server -t on a config; sync_interval is dropped for a local server older than 2.10 (the images run 2.10). */
function checkNatsConf(text: string, env: Record<string, string> = {}): void {
  const version = spawnSync('nats-server', ['--version'], { encoding: 'utf8' }).stdout;
  const [, maj, min] = /v(\d+)\.(\d+)/.exec(version) ?? [];
  const old = Number(maj) === 2 && Number(min) < 10;
  const dir = mkdtempSync(join(tmpdir(), 'mmm-deploy-'));
  try {
    const file = join(dir, 'nats.conf');
    writeFileSync(file, old ? text.replace(/^\s*sync_interval:.*$/m, '') : text);
    const r = spawnSync('nats-server', ['-t', '-c', file], { encoding: 'utf8', env: { ...process.env, ...env } });
    expect(r.status, `${r.stdout}${r.stderr}\n${text}`).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The mmm subcommand a container runs (first argument), when it is one with a config file. */
function mmmService(args: unknown): string | undefined {
  return Array.isArray(args) && typeof args[0] === 'string' && args[0] in SPECS ? args[0] : undefined;
}

describe('compose file', () => {
  const doc = parse(readFileSync(COMPOSE, 'utf8'), { merge: true }) as Obj;
  const services = doc.services as Record<string, Obj>;

  it('has the 3-node NATS cluster, ClickHouse, an OpenTelemetry collector and every service', () => {
    for (const s of [
      'nats-1',
      'nats-2',
      'nats-3',
      'clickhouse',
      'otel-collector',
      'provision',
      'ingest',
      'route-analysis',
      'api-1',
      'api-2',
      'api-lb',
      'nats-leaf',
      'sim',
      'agent',
    ]) {
      expect(services[s], s).toBeDefined();
    }
  });

  it('runs what the tests run: R3 provisioning, two copies of ingest, route-analysis and the API, each API its own id and volume', () => {
    expect(services.provision!.command.join(' ')).toMatch(/--replicas 3\b/);
    expect(services.ingest!.deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(services['route-analysis']!.deploy?.replicas).toBeGreaterThanOrEqual(2);
    const apis = Object.entries(services).filter(([, v]) => mmmService(v.command) === 'api');
    expect(apis.length).toBeGreaterThanOrEqual(2);
    const ids = apis.map(([, v]) => v.environment?.MMM_SERVER_INSTANCE_ID);
    expect(new Set(ids).size, 'distinct instance ids').toBe(apis.length);
    const vols = apis.map(([, v]) => String(v.volumes?.[0]).split(':')[0]);
    expect(new Set(vols).size, 'one projection volume each').toBe(apis.length);
    const lb = readFileSync(join(DEPLOY, 'compose', doc.configs['api-lb'].file), 'utf8');
    for (const [name] of apis) expect(lb).toContain(`server ${name}:8082`);
    const ra = readFileSync(join(DEPLOY, 'compose', doc.configs['route-analysis'].file), 'utf8');
    expect(ra).toMatch(/^replicas = 3$/m);
  });

  it('resolves every reference: images, depends_on, volumes, configs, networks, host ports', () => {
    const hostPorts = new Set<string>();
    for (const [name, svc] of Object.entries(services)) {
      expect(svc.image ?? svc.build, `${name}: image or build`).toBeDefined();
      if (svc.build)
        expect(
          existsSync(resolve(dirname(COMPOSE), svc.build.context, svc.build.dockerfile)),
          `${name}: Dockerfile`,
        ).toBe(true);
      const deps = Array.isArray(svc.depends_on) ? svc.depends_on : Object.keys(svc.depends_on ?? {});
      for (const d of deps) expect(services[d], `${name} depends on ${d}`).toBeDefined();
      for (const [d, c] of Object.entries((Array.isArray(svc.depends_on) ? {} : svc.depends_on) ?? {}) as [
        string,
        Obj,
      ][]) {
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(c.condition);
        if (c.condition === 'service_healthy')
          expect(services[d]!.healthcheck, `${d} needs a healthcheck for ${name}`).toBeDefined();
      }
      for (const v of svc.volumes ?? []) {
        const source = String(v).split(':')[0]!;
        if (source.startsWith('.') || source.startsWith('/'))
          expect(existsSync(resolve(dirname(COMPOSE), source)), `${name}: ${source}`).toBe(true);
        else expect(doc.volumes?.[source], `${name}: volume ${source}`).toBeDefined();
      }
      for (const c of svc.configs ?? [])
        expect(doc.configs?.[c.source ?? c], `${name}: config ${c.source}`).toBeDefined();
      for (const n of svc.networks ?? []) expect(doc.networks?.[n], `${name}: network ${n}`).toBeDefined();
      for (const p of svc.ports ?? []) {
        const m = /^(?:(\d+):)?(\d+)$/.exec(String(p));
        expect(m, `${name}: port ${p}`).not.toBeNull();
        if (m?.[1]) {
          expect(hostPorts.has(m[1]), `host port ${m[1]} used twice`).toBe(false);
          hostPorts.add(m[1]);
        }
      }
    }
    for (const [name, c] of Object.entries(doc.configs as Record<string, Obj>)) {
      expect(existsSync(resolve(dirname(COMPOSE), c.file)), `config ${name}: ${c.file}`).toBe(true);
    }
  });

  it('ships INI files every service loads without an error', () => {
    for (const [name, svc] of Object.entries(services)) {
      const service = mmmService(svc.command);
      if (!service) continue;
      const cfgArg = (svc.command as string[]).indexOf('--config');
      expect(cfgArg, `${name} runs with --config`).toBeGreaterThan(0);
      const target = (svc.command as string[])[cfgArg + 1];
      const mount = (svc.configs as Obj[]).find((c) => c.target === target);
      expect(mount, `${name}: ${target} is mounted`).toBeDefined();
      const file = resolve(dirname(COMPOSE), doc.configs[mount!.source].file);
      checkIni(service, readFileSync(file, 'utf8'), file);
    }
  });

  it('ships nats-server configs that nats-server accepts', () => {
    checkNatsConf(readFileSync(join(DEPLOY, 'compose/nats-hub.conf'), 'utf8'), { SERVER_NAME: 'nats-1' });
    checkNatsConf(readFileSync(join(DEPLOY, 'compose/nats-leaf.conf'), 'utf8'));
  });

  it('ships a collector config whose pipelines use only defined components', () => {
    checkCollector(parse(readFileSync(join(DEPLOY, 'otel/collector.yaml'), 'utf8')) as Obj);
  });
});

function checkCollector(c: Obj): void {
  for (const [name, p] of Object.entries(c.service.pipelines as Record<string, Obj>)) {
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      for (const ref of p[kind] ?? []) expect(c[kind]?.[ref], `pipeline ${name}: ${kind} ${ref}`).toBeDefined();
    }
    expect(p.receivers?.length && p.exporters?.length, `pipeline ${name} has receivers and exporters`).toBeTruthy();
  }
  for (const ext of c.service.extensions ?? []) expect(c.extensions?.[ext], `extension ${ext}`).toBeDefined();
}

describe('Kubernetes manifests', () => {
  const dir = join(DEPLOY, 'k8s');
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Obj;
  const objects: Obj[] = [];
  for (const f of kustomization.resources as string[]) {
    for (const d of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
      expect(d.errors, f).toEqual([]);
      const o = d.toJS() as Obj | null;
      if (o) objects.push({ ...o, __file: f });
    }
  }
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  const workloads = objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));

  it('lists every manifest file in the kustomization, and each object has its required fields', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...(kustomization.resources as string[])].sort()).toEqual(files.sort());
    const API: Record<string, string> = {
      Namespace: 'v1',
      ConfigMap: 'v1',
      Service: 'v1',
      Secret: 'v1',
      Deployment: 'apps/v1',
      StatefulSet: 'apps/v1',
      Job: 'batch/v1',
    };
    const keys = new Set<string>();
    for (const o of objects) {
      expect(API[o.kind], `${o.__file}: kind ${o.kind}`).toBeDefined();
      expect(o.apiVersion, `${o.__file}: ${o.kind} apiVersion`).toBe(API[o.kind]);
      expect(o.metadata?.name, `${o.__file}: metadata.name`).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      if (o.kind !== 'Namespace')
        expect(o.metadata.namespace, `${o.kind}/${o.metadata.name} namespace`).toBe('meshymcmapface');
      const key = `${o.kind}/${o.metadata.name}`;
      expect(keys.has(key), `${key} defined twice`).toBe(false);
      keys.add(key);
    }
    for (const piece of [
      'nats',
      'clickhouse',
      'otel-collector',
      'ingest',
      'route-analysis',
      'api',
      'leaf-site1',
      'sim',
      'agent-1',
    ]) {
      expect(
        workloads.some((w) => w.metadata.name === piece),
        piece,
      ).toBe(true);
    }
  });

  it('wires workloads: selectors match pod labels, containers, ports, volumes, ConfigMap keys, StatefulSet services', () => {
    for (const w of workloads) {
      const id = `${w.kind}/${w.metadata.name}`;
      const pod = w.spec.template.spec as Obj;
      const labels = w.spec.template.metadata?.labels ?? {};
      if (w.kind !== 'Job') {
        expect(w.spec.selector?.matchLabels, `${id} selector`).toBeDefined();
        for (const [k, v] of Object.entries(w.spec.selector.matchLabels))
          expect(labels[k], `${id} template label ${k}`).toBe(v);
      } else {
        expect(['OnFailure', 'Never']).toContain(pod.restartPolicy);
      }
      expect(pod.containers?.length, `${id} containers`).toBeGreaterThan(0);
      const claims = new Set((w.spec.volumeClaimTemplates ?? []).map((c: Obj) => c.metadata.name));
      const volumes = new Map<string, Obj>((pod.volumes ?? []).map((v: Obj) => [v.name, v]));
      for (const c of pod.containers as Obj[]) {
        expect(c.name && c.image, `${id} container name and image`).toBeTruthy();
        const portNames = new Set((c.ports ?? []).map((p: Obj) => p.name));
        for (const probe of [c.readinessProbe, c.livenessProbe].filter(Boolean)) {
          const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
          if (typeof port === 'string') expect(portNames.has(port), `${id} probe port ${port}`).toBe(true);
        }
        for (const m of c.volumeMounts ?? [])
          expect(volumes.has(m.name) || claims.has(m.name), `${id} mount ${m.name}`).toBe(true);
        const service = mmmService(c.args);
        if (service) checkMountedIni(id, service, c, volumes);
      }
      for (const v of volumes.values()) {
        if (!v.configMap) continue;
        const cm = find('ConfigMap', v.configMap.name);
        expect(cm, `${id} ConfigMap ${v.configMap.name}`).toBeDefined();
        for (const item of v.configMap.items ?? []) expect(cm!.data?.[item.key], `${id} key ${item.key}`).toBeDefined();
      }
      if (w.kind === 'StatefulSet') expect(find('Service', w.spec.serviceName), `${id} serviceName`).toBeDefined();
    }
  });

  function checkMountedIni(id: string, service: string, c: Obj, volumes: Map<string, Obj>): void {
    const target = (c.args as string[])[(c.args as string[]).indexOf('--config') + 1]!;
    const mount = (c.volumeMounts as Obj[]).find((m) => target.startsWith(`${m.mountPath}/`));
    expect(mount, `${id}: ${target} mounted`).toBeDefined();
    const cm = find('ConfigMap', volumes.get(mount!.name)!.configMap.name)!;
    const key = target.slice(mount!.mountPath.length + 1);
    checkIni(service, cm.data[key], `${id} ${key}`);
  }

  it('selects pods with every Service and targets ports the pods declare', () => {
    for (const s of byKind('Service')) {
      const matches = workloads.filter((w) =>
        Object.entries(s.spec.selector ?? {}).every(([k, v]) => w.spec.template.metadata?.labels?.[k] === v),
      );
      expect(matches.length, `Service/${s.metadata.name} selects nothing`).toBeGreaterThan(0);
      const declared = new Set(
        matches.flatMap((w) =>
          (w.spec.template.spec.containers as Obj[]).flatMap((c) =>
            (c.ports ?? []).flatMap((p: Obj) => [p.name, p.containerPort]),
          ),
        ),
      );
      for (const p of s.spec.ports)
        expect(declared.has(p.targetPort ?? p.port), `Service/${s.metadata.name} targetPort ${p.targetPort}`).toBe(
          true,
        );
    }
  });

  it('ships nats-server configs that nats-server accepts', () => {
    checkNatsConf(find('ConfigMap', 'nats-hub-config')!.data['nats.conf'], { POD_NAME: 'nats-0' });
    checkNatsConf(find('ConfigMap', 'site1-config')!.data['nats.conf']);
  });

  it('ships a collector config whose pipelines use only defined components', () => {
    checkCollector(parse(find('ConfigMap', 'otel-collector-config')!.data['config.yaml']) as Obj);
  });
});

const started: Running[] = [];
afterAll(() => disposeAll(started));

interface ClusterManifest {
  hubs: (ManifestServer & { serverName: string })[];
  leaf: ManifestServer;
  /** The manifest's own `mmm streams provision` arguments. */
  provision: string[];
}

function flagValues(args: string[], flag: string): string[] {
  const i = args.indexOf(flag);
  if (i < 0) return [];
  const out: string[] = [];
  for (let j = i + 1; j < args.length && !args[j]!.startsWith('--'); j++) out.push(args[j]!);
  return out;
}

/**
 * Starts a manifest's three hub configs and its leaf config with nats-server, provisions the hub streams with the
 * manifest's own provisioning arguments, and proves the cluster does what the tests rely on: R3 streams, the leaf's
 * site stream sourced into MESH, and after kill -9 of MESH's leader the leaf (listing every hub node) still reaches
 * the hub and everything arrives once.
 */
async function proveCluster(m: ClusterManifest): Promise<void> {
  const rendered = await renderManifest([...m.hubs, m.leaf]);
  const hubs = rendered.slice(0, m.hubs.length).map(startRendered);
  started.push(...hubs);
  // The full /healthz is ok once a node joined the JetStream meta group, which needs the routes to work.
  await Promise.all(hubs.map((h) => waitMonitor(h, '/healthz', (b) => (b as { status?: string }).status === 'ok')));
  const leaf = startRendered(rendered[m.hubs.length]!);
  started.push(leaf);
  await waitMonitor(leaf, '/leafz', (b) => ((b as { leafnodes?: number }).leafnodes ?? 0) > 0);

  const hubArg = flagValues(m.provision, '--hub').join(',');
  for (const h of m.hubs.filter((x) => x.aliases?.length)) {
    expect(hubArg, `provisioning names ${h.name}`).toMatch(new RegExp(`//(${h.aliases!.join('|')}):`));
  }
  const sites = flagValues(m.provision, '--site');
  const replicas = Number(flagValues(m.provision, '--replicas')[0]);
  expect(replicas).toBe(m.hubs.length);
  const site = sites[0]!;

  let nc: NatsConnection | undefined;
  let leafNc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: hubs.map((h) => h.url), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const jsm = await nc.jetstreamManager({ timeout: 20_000 });
    await waitFor('provisioning on the fresh cluster', () => provisionHub(jsm, { sites, replicas }), 60_000, 1000);
    const mesh = await jsm.streams.info('MESH');
    expect(mesh.config.num_replicas).toBe(3);
    expect(mesh.cluster?.replicas?.length).toBe(2);

    leafNc = await connect({ servers: leaf.url });
    const leafJs = leafNc.jetstream();
    await ensureSiteStream(await leafNc.jetstreamManager(), site);
    const publish = async (from: number, to: number) => {
      for (let i = from; i < to; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, to - i) }, (_, k) =>
            leafJs.publish(`mesh.v1.${site}.agent-1.rx.text`, `{"n":${i + k}}`, { msgID: `manifest-${i + k}` }),
          ),
        );
      }
    };
    const hubHas = (n: number) =>
      waitFor(
        `MESH on the hub to hold ${n}`,
        async () => (await jsm.streams.info('MESH')).state.messages === n,
        90_000,
        250,
      );
    await publish(0, 200);
    await hubHas(200);

    const leader = (await jsm.streams.info('MESH')).cluster!.leader!;
    const victim = hubs.find((h) => m.hubs.find((x) => x.name === h.server.name)!.serverName === leader)!;
    expect(victim, `leader ${leader} among the hub nodes`).toBeDefined();
    await victim.kill();
    await publish(200, 300);
    await hubHas(300);
    const after = await jsm.streams.info('MESH');
    expect(after.cluster?.leader).not.toBe(leader);
    expect(after.state.last_seq).toBe(300);
  } finally {
    await leafNc?.close();
    await nc?.close();
  }
}

describe('the manifests NATS configs, started with nats-server (ports remapped)', () => {
  it('refuses to render a config whose routes or remotes name a server the manifest does not run', async () => {
    const hub = (routes: string) =>
      `server_name: $SERVER_NAME\nlisten: 0.0.0.0:4222\nhttp: 0.0.0.0:8222\ncluster {\n  listen: 0.0.0.0:6222\n  routes: [${routes}]\n}\n`;
    const servers = (routes: string) =>
      ['nats-1', 'nats-2'].map((name) => ({ name, text: hub(routes), env: { SERVER_NAME: name }, aliases: [name] }));
    const ok = await renderManifest(servers('nats-route://nats-1:6222, nats-route://nats-2:6222'));
    expect(ok[0]!.rendered).toContain(`nats-route://127.0.0.1:${ok[1]!.ports.get(6222)}`);
    await expect(renderManifest(servers('nats-route://nats-1:6222, nats-route://nats-4:6222'))).rejects.toThrow(
      /nats-4:6222 names no server of this manifest/,
    );
    for (const s of ok) rmSync(s.dir, { recursive: true, force: true });
  });

  it('compose: three hub nodes form the cluster, R3 MESH sources the leaf, which survives the leader’s kill -9', async () => {
    const doc = parse(readFileSync(COMPOSE, 'utf8'), { merge: true }) as Obj;
    const services = doc.services as Record<string, Obj>;
    const fileOf = (svc: Obj) =>
      readFileSync(resolve(dirname(COMPOSE), doc.configs[(svc.configs as Obj[])[0]!.source].file), 'utf8');
    const hubs = Object.entries(services)
      .filter(([, v]) => (v.configs as Obj[] | undefined)?.[0]?.source === 'nats-hub')
      .map(([name, v]) => ({
        name,
        text: fileOf(v),
        env: v.environment as Record<string, string>,
        aliases: [name],
        serverName: (v.environment as Record<string, string>).SERVER_NAME!,
      }));
    expect(hubs.map((h) => h.name)).toEqual(['nats-1', 'nats-2', 'nats-3']);
    await proveCluster({
      hubs,
      leaf: { name: 'nats-leaf', text: fileOf(services['nats-leaf']!), aliases: ['nats-leaf'] },
      provision: services.provision!.command as string[],
    });
  }, 240_000);

  it('k8s: the StatefulSet’s three pods form the cluster, R3 MESH sources the site leaf, which survives the leader’s kill -9', async () => {
    const dir = join(DEPLOY, 'k8s');
    const objects = ['nats.yaml', 'site.yaml', 'provision-job.yaml'].flatMap((f) =>
      parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Obj),
    );
    const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata?.name === name)!;
    const sts = find('StatefulSet', 'nats');
    const hubText = find('ConfigMap', 'nats-hub-config').data['nats.conf'] as string;
    const pods = Array.from({ length: sts.spec.replicas as number }, (_, i) => `nats-${i}`);
    expect(pods).toHaveLength(3);
    await proveCluster({
      hubs: pods.map((pod) => ({
        name: pod,
        text: hubText,
        env: { POD_NAME: pod },
        aliases: [`${pod}.${sts.spec.serviceName}.meshymcmapface.svc`],
        serverName: pod,
      })),
      leaf: { name: 'leaf-site1', text: find('ConfigMap', 'site1-config').data['nats.conf'], aliases: ['leaf-site1'] },
      provision: find('Job', 'provision-streams').spec.template.spec.containers[0].args as string[],
    });
  }, 240_000);

  it('infra/nats: hub-a, hub-b, hub-c and the leaf template form the same cluster', async () => {
    const infra = join(DEPLOY, '../infra/nats');
    const read = (f: string) => readFileSync(join(infra, f), 'utf8');
    await proveCluster({
      hubs: ['hub-a', 'hub-b', 'hub-c'].map((n) => ({ name: n, text: read(`${n}.conf`), serverName: n })),
      leaf: { name: 'leaf', text: read('leaf.conf') },
      // docs/operations.md and the configs' own comments: mmm streams provision --replicas 3 for the template's site.
      provision: ['streams', 'provision', '--hub', 'nats://127.0.0.1:4222', '--site', 'site1', '--replicas', '3'],
    });
  }, 240_000);
});
