import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, type ChildSpec, type Exit } from './child.js';
import { hubUrls, type Layout, prepare, setupOf } from './layout.js';
import { hubNodePorts, portList, type UpOptions } from './options.js';
import { findNatsServer, lockDataDir, PreflightError } from './preflight.js';
import { httpOk, leafLinks, portTaken, tcpOpen } from './probes.js';
import { renderTable } from './table.js';

/** The `mmm` entry every service runs through: dist when built, sources otherwise (the bin script decides). */
const MMM_BIN = fileURLToPath(new URL('../../../bin/mmm.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../../..', import.meta.url));
/** Running from TypeScript sources: children must too, or they would run a stale or missing dist/. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** A service failed to start or crashed; the message carries the end of its log. Exit code 1. */
export class StackError extends Error {
  override readonly name = 'StackError';
}

/** Signals closer together than this count as one (relayed copies of the same Ctrl-C). */
const REPEAT_SIGNAL_MS = 1500;

class Interrupted extends Error {
  override readonly name = 'Interrupted';
}

export interface UpIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

function mmm(l: Layout, name: string, args: string[], address: string, ready: () => Promise<boolean>): ChildSpec {
  return {
    name,
    command: process.execPath,
    args: [MMM_BIN, ...args],
    logFile: join(l.logDir, `${name}.log`),
    env: FROM_SOURCE ? { MMM_FROM_SOURCE: '1' } : {},
    // The repository root, not the caller's directory: `--import tsx` resolves tsx from the working directory, and
    // inside a workspace tsx would apply its tsconfig, whose `paths` entry points @meshtastic/protobufs at a .d.ts.
    cwd: REPO_ROOT,
    address,
    ready,
  };
}

/**
 * Start phases: each phase's services start together and are all waited for before the next phase. The hub and
 * the leaf come first, then the streams; the consumers do not depend on each other; the agent needs its radio.
 */
function specs(
  o: UpOptions,
  l: Layout,
  natsPath: string,
): { before: ChildSpec[][]; provision: ChildSpec; after: ChildSpec[][] } {
  const p = o.ports;
  const lvl = ['--log-level', o.logLevel];
  const nodes = hubNodePorts(o);
  const hubs: ChildSpec[] = l.hubs.map((h, i) => ({
    name: `${h.name}-nats`,
    command: natsPath,
    args: ['-c', h.config],
    cwd: o.dataDir,
    logFile: join(l.logDir, `${h.name}-nats.log`),
    address: `nats://127.0.0.1:${nodes[i]!.nats} (monitor :${nodes[i]!.monitor}, leafnodes :${nodes[i]!.leafnode}${o.hubNodes > 1 ? `, cluster :${nodes[i]!.cluster}` : ''})`,
    // A cluster node is healthy once it joined the JetStream meta group (the full /healthz says so); a lone hub
    // once JetStream runs.
    ready: () =>
      httpOk(`http://127.0.0.1:${nodes[i]!.monitor}/healthz${o.hubNodes > 1 ? '' : '?js-enabled-only=true'}`),
    hubNode: o.hubNodes > 1,
  }));
  const leaf: ChildSpec = {
    name: 'leaf-nats',
    command: natsPath,
    args: ['-c', l.config.leaf],
    cwd: o.dataDir,
    logFile: join(l.logDir, 'leaf-nats.log'),
    address: `nats://127.0.0.1:${p.leaf} (site ${o.site}, monitor :${p.monitor + 1})`,
    ready: async () =>
      (await httpOk(`http://127.0.0.1:${p.monitor + 1}/healthz?js-enabled-only=true`)) &&
      (await leafLinks(p.monitor + 1)) > 0,
  };
  const provision = mmm(
    l,
    'streams',
    // The API republishes legacy (Python) agents' reports under the `legacy` site on the hub itself.
    [
      'streams',
      'provision',
      '--hub',
      hubUrls(setupOf(o)),
      '--site',
      o.site,
      '--hub-site',
      'legacy',
      '--replicas',
      String(o.hubNodes),
    ],
    '',
    async () => false,
  );
  const consumers: ChildSpec[] = [];
  if (!o.radio) {
    const simArgs = ['sim', '--host', '127.0.0.1', '--port', String(p.sim), ...lvl];
    if (o.simNodes !== undefined) simArgs.push('--nodes', String(o.simNodes));
    if (o.simRate !== undefined) simArgs.push('--rate', String(o.simRate));
    if (o.simSeed !== undefined) simArgs.push('--seed', String(o.simSeed));
    consumers.push(
      mmm(l, 'sim', simArgs, `tcp://127.0.0.1:${p.sim} (simulated radio)`, () => tcpOpen('127.0.0.1', p.sim)),
    );
  }
  const radio = o.radio
    ? o.radio.kind === 'tcp'
      ? `radio tcp:${o.radio.host}:${o.radio.port}`
      : `radio ${o.radio.path}`
    : 'radio: simulator';
  const agent = mmm(
    l,
    'agent',
    ['agent', '--config', l.config.agent, ...lvl],
    `${radio}, ops http://127.0.0.1:${p.opsBase}`,
    () => httpOk(`http://127.0.0.1:${p.opsBase}/readyz`),
  );
  consumers.push(
    mmm(
      l,
      'ingest',
      ['ingest', '--config', l.config.ingest, ...lvl],
      `${o.clickhouse ? `ClickHouse ${o.clickhouse}` : 'SQLite'}, ops http://127.0.0.1:${p.opsBase + 1}`,
      () => httpOk(`http://127.0.0.1:${p.opsBase + 1}/readyz`),
    ),
    mmm(
      l,
      'route-analysis',
      ['route-analysis', '--config', l.config.routeAnalysis, ...lvl],
      `ops http://127.0.0.1:${p.opsBase + 2}`,
      () => httpOk(`http://127.0.0.1:${p.opsBase + 2}/readyz`),
    ),
    mmm(l, 'api', ['api', '--config', l.config.api, ...lvl], `http://127.0.0.1:${p.api}`, () =>
      httpOk(`http://127.0.0.1:${p.api}/readyz`),
    ),
    mmm(
      l,
      'alerts',
      ['alerts', '--config', l.config.alerts, ...lvl],
      `default rules, ops http://127.0.0.1:${p.opsBase + 3}`,
      () => httpOk(`http://127.0.0.1:${p.opsBase + 3}/readyz`),
    ),
  );
  const last = [agent];
  if (o.mqtt) {
    const from = [o.mqtt.listener ? `leaf MQTT :${p.mqtt}` : '', o.mqtt.broker ?? ''].filter(Boolean).join(', ');
    last.push(
      mmm(
        l,
        'mqtt',
        ['mqtt', '--config', l.config.mqtt, '--keys-from', l.config.agent, ...lvl],
        `${from}, ops http://127.0.0.1:${p.opsBase + 4}`,
        () => httpOk(`http://127.0.0.1:${p.opsBase + 4}/readyz`),
      ),
    );
  }
  // The cluster's nodes start together: each waits for the others to form the JetStream meta group.
  return { before: [hubs, [leaf]], provision, after: [consumers, last] };
}

async function portsFree(o: UpOptions): Promise<void> {
  const list = portList(o);
  const taken = [];
  for (const [flag, port] of list) if (await portTaken(port)) taken.push(`${port} (${flag})`);
  if (taken.length) {
    throw new PreflightError(
      `port${taken.length > 1 ? 's' : ''} already in use: ${taken.join(', ')}. Stop what uses them or choose others with the flags named.`,
    );
  }
}

/**
 * Starts the whole stack in dependency order, waits until each piece is ready, prints what runs where, then waits
 * for Ctrl-C / SIGTERM (returns 0 after stopping everything in reverse order) or for a service to exit on its own
 * (reports it with the end of its log, stops the rest, returns 1: nothing is restarted silently).
 */
export async function runStack(o: UpOptions, io: UpIo): Promise<number> {
  const nats = findNatsServer();
  const release = lockDataDir(join(o.dataDir, 'up.pid'));
  const started: Child[] = [];
  let stopRequested: (() => void) | undefined;
  const stopSignal = new Promise<'signal'>((r) => {
    stopRequested = () => r('signal');
  });
  let interrupted = false;
  let firstSignalAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    // A wrapper (the bin script, tsx) may relay the same Ctrl-C a moment later: only a repeat after a pause means
    // "kill now".
    if (firstSignalAt && Date.now() - firstSignalAt < REPEAT_SIGNAL_MS) return;
    if (firstSignalAt) {
      io.err(`mmm up: ${sig} again, killing everything now`);
      for (const c of started) void c.killGroup();
      return;
    }
    firstSignalAt = Date.now();
    interrupted = true;
    io.err(`mmm up: ${sig}, stopping (again to kill at once)`);
    stopRequested?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  const stopAll = async () => {
    for (const c of [...started].reverse()) {
      if (!c.exit) io.out(`stopping ${c.spec.name} (pid ${c.pid})`);
      await c.stop(o.stopTimeoutMs);
    }
  };

  try {
    await portsFree(o);
    const { layout: l, written } = prepare(o, nats.version);
    const rel = (f: string) => {
      const r = relative(process.cwd(), f);
      return r && !r.startsWith('..') ? r : f;
    };
    io.out(
      written.length ? `wrote ${written.map(rel).join(', ')}` : `reusing the configuration in ${rel(l.configDir)}`,
    );
    const s = specs(o, l, nats.path);

    const startOne = async (spec: ChildSpec) => {
      const c = new Child(spec);
      started.push(c);
      c.start();
      io.out(`starting ${spec.name} (pid ${c.pid}) ...`);
      await waitReady(c, o.readyTimeoutMs, () => interrupted);
      io.out(`  ${spec.name} ready`);
    };
    for (const phase of s.before) await Promise.all(phase.map(startOne));
    await runOnce(new Child(s.provision), o.readyTimeoutMs, io);
    for (const phase of s.after) await Promise.all(phase.map(startOne));

    const running = started.filter((c) => !c.exit);
    const how = (e: Exit) => (e.signal ? `signal ${e.signal}` : `code ${e.code}`);
    const table = () =>
      renderTable(
        ['service', 'pid', 'state', 'address', 'log'],
        running.map((c) => [
          c.spec.name,
          String(c.pid),
          c.exit ? `DOWN (${how(c.exit)})` : 'running',
          c.spec.address,
          rel(c.spec.logFile),
        ]),
      );
    io.out('');
    io.out(table());
    io.out('');
    io.out(
      `MeshyMcMapface is up: open http://127.0.0.1:${o.ports.api}  (Ctrl-C stops everything; data in ${rel(o.dataDir)})`,
    );

    let watched = running;
    for (;;) {
      const ended = await Promise.race([stopSignal, ...watched.map((c) => c.done.then(() => c))]);
      if (ended === 'signal') {
        await stopAll();
        io.out('stopped');
        return 0;
      }
      const e = ended.exit!;
      const hubs = running.filter((c) => c.spec.hubNode);
      const hubsUp = hubs.filter((c) => !c.exit).length;
      if (ended.spec.hubNode && hubsUp * 2 > hubs.length) {
        // Surviving one node's loss is what three nodes are for: report it and carry on (nothing restarts it).
        io.err(
          `mmm up: hub node ${ended.spec.name} (pid ${ended.pid}) died (${how(e)}); the hub carries on with ${hubsUp} of ${hubs.length} nodes, a quorum: streams and buckets keep their other replicas and the services and the leaf reconnect to the remaining nodes. Restart the stack to bring it back. Last lines of ${rel(ended.spec.logFile)}:\n${ended.tail(5)}`,
        );
        io.out(table());
        watched = watched.filter((c) => c !== ended);
        continue;
      }
      const quorum = ended.spec.hubNode ? ` (only ${hubsUp} of ${hubs.length} hub nodes left: no quorum)` : '';
      io.err(
        `mmm up: ${ended.spec.name} (pid ${ended.pid}) exited on its own (${how(e)})${quorum}; stopping the stack. Last lines of ${rel(ended.spec.logFile)}:\n${ended.tail()}`,
      );
      break;
    }
    await stopAll();
    return 1;
  } catch (err) {
    await stopAll();
    if (err instanceof Interrupted) {
      io.out('stopped');
      return 0;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    release();
  }
}

async function waitReady(c: Child, timeoutMs: number, interrupted: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (interrupted()) throw new Interrupted();
    if (c.exit) {
      throw new StackError(
        `${c.spec.name} exited during start (${c.exit.signal ? `signal ${c.exit.signal}` : `code ${c.exit.code}`}). Last lines of ${c.spec.logFile}:\n${c.tail()}`,
      );
    }
    if (await c.spec.ready()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new StackError(
    `${c.spec.name} was not ready within ${timeoutMs / 1000} s. Last lines of ${c.spec.logFile}:\n${c.tail()}`,
  );
}

async function runOnce(c: Child, timeoutMs: number, io: UpIo): Promise<void> {
  c.start();
  io.out(`provisioning streams, durables and buckets (pid ${c.pid}) ...`);
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
  const result = await Promise.race([c.done, timer]);
  if (result === 'timeout') {
    await c.stop(1000);
    throw new StackError(`stream provisioning did not finish within ${timeoutMs / 1000} s:\n${c.tail()}`);
  }
  await c.killGroup();
  if (result.code !== 0) throw new StackError(`stream provisioning failed (code ${result.code}):\n${c.tail()}`);
  io.out(`  streams ready: ${c.tail(5).split('\n').join('; ')}`);
}
