import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, httpOk, requireBinary, ServerProcess } from './proc.js';

export interface ClickHouseServer {
  /** HTTP URL for @clickhouse/client. */
  readonly url: string;
  readonly httpPort: number;
  readonly tcpPort: number;
  readonly dir: string;
  readonly process: ServerProcess;
  get pid(): number | undefined;
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

export interface ClickHouseOptions {
  /** A ZooKeeper for Replicated*MergeTree tables (see startZooKeeper). */
  readonly zookeeper?: { readonly host: string; readonly port: number };
  /** `<macros>`, e.g. { shard: '01', replica: 'a' }: what `{shard}`/`{replica}` in a replicated table's path become. */
  readonly macros?: Readonly<Record<string, string>>;
}

/**
 * A ZooKeeper session outlives its killed server by this long, so a restarted replica is active again soon after; long
 * enough that a loaded two-core machine's pauses do not end live sessions (10 s is the kit ZooKeeper's upper bound).
 */
const ZOOKEEPER_SESSION_MS = 10_000;

function replicationXml(opts: ClickHouseOptions): string {
  const parts: string[] = [];
  if (opts.zookeeper) {
    parts.push(
      `  <zookeeper><node><host>${opts.zookeeper.host}</host><port>${opts.zookeeper.port}</port></node>` +
        `<session_timeout_ms>${ZOOKEEPER_SESSION_MS}</session_timeout_ms></zookeeper>`,
      // Replicas fetch parts from each other at the address they register in ZooKeeper.
      '  <interserver_http_host>127.0.0.1</interserver_http_host>',
      // A replica killed just after fetching a part it had not yet recorded in ZooKeeper finds that part "unexpected"
      // at start; 18.16 refuses to start when such parts exceed half a table's rows, which a test's small tables do
      // with one part. Allowed, the part is set aside and fetched again (docs/ingest.md has the same for operators).
      '  <merge_tree><replicated_max_ratio_of_wrong_parts>1</replicated_max_ratio_of_wrong_parts></merge_tree>',
    );
  }
  if (opts.macros) {
    const tags = Object.entries(opts.macros).map(([k, v]) => `<${k}>${v}</${k}>`);
    parts.push(`  <macros>${tags.join('')}</macros>`);
  }
  return parts.map((p) => `${p}\n`).join('');
}

/**
 * Starts Debian's clickhouse-server (18.16 on CI) as a plain process with data in a temp dir; with a ZooKeeper and
 * macros it is one replica of replicated tables.
 */
export async function startClickHouse(opts: ClickHouseOptions = {}): Promise<ClickHouseServer> {
  const binary = requireBinary('clickhouse-server', 'clickhouse-server clickhouse-client');
  const dir = mkdtempSync(join(tmpdir(), 'mmm-clickhouse-'));
  for (const d of ['data', 'tmp', 'user_files', 'format_schemas', 'log']) mkdirSync(join(dir, d), { recursive: true });
  const [httpPort, tcpPort, interPort] = await Promise.all([freePort(), freePort(), freePort()]);
  writeFileSync(
    join(dir, 'config.xml'),
    `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/log/server.log</log><errorlog>${dir}/log/err.log</errorlog><size>100M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <interserver_http_port>${interPort}</interserver_http_port>
  <max_concurrent_queries>50</max_concurrent_queries>
  <mark_cache_size>268435456</mark_cache_size>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
${replicationXml(opts)}</yandex>
`,
  );
  writeFileSync(
    join(dir, 'users.xml'),
    `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`,
  );
  const proc = new ServerProcess('clickhouse', binary, [`--config-file=${join(dir, 'config.xml')}`], () =>
    httpOk(`http://127.0.0.1:${httpPort}/ping`),
  );
  // The server writes why it stopped to its error log, not to stdout: a failed start quotes the log's end.
  const withErrorLog = async (start: () => Promise<void>) => {
    try {
      await start();
    } catch (err) {
      const errLog = join(dir, 'log', 'err.log');
      const tail = existsSync(errLog) ? readFileSync(errLog, 'utf8').slice(-4_000) : '(no error log)';
      throw new Error(`${(err as Error).message}\n--- ${errLog} ---\n${tail}`, { cause: err });
    }
  };
  await withErrorLog(() => proc.start(60_000));
  return {
    url: `http://127.0.0.1:${httpPort}`,
    httpPort,
    tcpPort,
    dir,
    process: proc,
    get pid() {
      return proc.pid;
    },
    kill: (signal = 'SIGKILL') => proc.kill(signal),
    restart: () => withErrorLog(() => proc.restart()),
    stop: () => proc.stop(),
    dispose: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
