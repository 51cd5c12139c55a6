// The shared load generator (legacy-load.mjs, the one the original was measured with) as one process per agent, each
// with that agent's own key (the API binds a key to its agent id), summed.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface GeneratorRun {
  load: string;
  url: string;
  /** One generator process per [agent id, key]; the id must be `<prefix>-1`. */
  keys: readonly (readonly [string, string])[];
  batch: number;
  seconds: number;
  concurrency?: number;
}

export interface GeneratorResult {
  accepted: number;
  acceptedPerS: number;
  /** The slowest process's POST latency percentiles. */
  p50: number;
  p95: number;
  errors: number;
}

export async function runGenerators(r: GeneratorRun): Promise<GeneratorResult> {
  const runs = await Promise.all(
    r.keys.map(([agent, key]) =>
      promisify(execFile)(
        process.execPath,
        [
          r.load,
          'ingest',
          ...['--url', r.url, '--api-key', key, '--agents', '1', '--agent-prefix', agent.replace(/-1$/, '')],
          ...['--concurrency', String(r.concurrency ?? 4), '--batch', String(r.batch), '--nodes', '200'],
          ...['--duration', String(r.seconds), '--setup', 'register', '--quiet'],
        ],
        { timeout: (r.seconds + 120) * 1000, maxBuffer: 16 << 20 },
      ),
    ),
  );
  const res = runs.map(
    (x) =>
      JSON.parse(
        x.stdout
          .trim()
          .split('\n')
          .pop()!
          .replace(/^RESULT /, ''),
      ) as Record<string, number>,
  );
  const sum = (k: string) => res.reduce((a, x) => a + (x[k] ?? 0), 0);
  return {
    accepted: sum('packets_accepted'),
    acceptedPerS: sum('pkts_per_s_mean'),
    p50: Math.max(...res.map((x) => x.lat_ms_p50 ?? 0)),
    p95: Math.max(...res.map((x) => x.lat_ms_p95 ?? 0)),
    errors: sum('errors'),
  };
}
