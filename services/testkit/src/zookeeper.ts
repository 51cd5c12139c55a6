import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, MissingBinaryError, requireBinary, ServerProcess } from './proc.js';

/** Debian's zookeeper package puts its jar here; its manifest's Class-Path names every dependency. */
const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
/**
 * Short ticks: a killed ClickHouse's session (and its replica's `is_active` node) expires within seconds instead of
 * the default 40, so a restarted replica rejoins quickly. Sessions may last 2 to 20 ticks.
 */
const TICK_MS = 500;

export interface ZooKeeperServer {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  readonly process: ServerProcess;
  get pid(): number | undefined;
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

/** Sends a four-letter command and resolves with the answer ('' when nothing answers). */
export function fourLetter(port: number, command: string, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const socket = connect({ host, port }, () => socket.end(command));
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on('data', (d) => {
      out += d.toString();
    });
    socket.on('error', () => resolve(''));
    socket.on('close', () => resolve(out));
  });
}

/** Starts Debian's ZooKeeper as one standalone server (a plain JVM process) with data in a temp dir. */
export async function startZooKeeper(): Promise<ZooKeeperServer> {
  const java = requireBinary('java', 'zookeeper');
  if (!existsSync(ZOOKEEPER_JAR)) {
    throw new MissingBinaryError(
      `${ZOOKEEPER_JAR} is missing; install it with: sudo apt-get install -y zookeeper (or run .ci/run, which installs every system package the tests need)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'mmm-zookeeper-'));
  mkdirSync(join(dir, 'data'));
  const port = await freePort();
  const cfg = join(dir, 'zoo.cfg');
  writeFileSync(
    cfg,
    [
      `tickTime=${TICK_MS}`,
      `dataDir=${dir}/data`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok,srvr,mntr',
      '',
    ].join('\n'),
  );
  // A small heap and the client compiler: the server holds a few thousand nodes and should start in seconds.
  const args = [
    '-Xmx256m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    `-Dzookeeper.log.dir=${dir}`,
    '-cp',
    ZOOKEEPER_JAR,
    'org.apache.zookeeper.server.ZooKeeperServerMain',
    cfg,
  ];
  const proc = new ServerProcess('zookeeper', java, args, async () => (await fourLetter(port, 'ruok')) === 'imok');
  await proc.start(60_000);
  return {
    host: '127.0.0.1',
    port,
    dir,
    process: proc,
    get pid() {
      return proc.pid;
    },
    kill: (signal = 'SIGKILL') => proc.kill(signal),
    stop: () => proc.stop(),
    dispose: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
