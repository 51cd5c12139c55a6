import { createWriteStream } from 'node:fs';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Progress, type ProgressSink } from '@mmm/common';

export const EXPORTS = {
  packets: { formats: ['csv', 'ndjson'], path: 'packets' },
  nodes: { formats: ['csv', 'geojson'], path: 'nodes' },
  links: { formats: ['geojson'], path: 'links' },
  track: { formats: ['geojson'], path: 'nodes/{node}/track' },
} as const;
export type ExportWhat = keyof typeof EXPORTS;

export interface ExportRequest {
  what: ExportWhat;
  format?: string;
  api: string;
  token?: string;
  /** Query parameters of the export route (hours, since, until, type, …). */
  params: Record<string, string | undefined>;
  node?: string;
}

/** A refused or broken export: the message says what to change. */
export class ExportError extends Error {
  override readonly name = 'ExportError';
}

export function exportUrl(r: ExportRequest): URL {
  const spec = EXPORTS[r.what];
  if (!spec) throw new ExportError(`unknown export ${r.what}: one of ${Object.keys(EXPORTS).join(', ')}`);
  const format = r.format ?? spec.formats[0];
  if (!(spec.formats as readonly string[]).includes(format))
    throw new ExportError(`${r.what} exports as ${spec.formats.join(' or ')}, not ${format}`);
  if (spec.path.includes('{node}') && !r.node) throw new ExportError(`a ${r.what} export needs --node <node id>`);
  const url = new URL(`/api/export/${spec.path.replace('{node}', encodeURIComponent(r.node ?? ''))}.${format}`, r.api);
  for (const [k, v] of Object.entries(r.params)) if (v !== undefined && v !== '') url.searchParams.set(k, v);
  return url;
}

/**
 * Streams one export from the API to `out`, counting bytes for the progress line. The API refuses bad filters and
 * missing tokens with a JSON error, whose message is passed on.
 */
export async function runExport(
  r: ExportRequest,
  out: Writable | string,
  progressSink?: ProgressSink,
): Promise<{ bytes: number }> {
  const url = exportUrl(r);
  let res: Response;
  try {
    res = await fetch(url, { headers: r.token ? { authorization: `Bearer ${r.token}` } : {} });
  } catch (err) {
    throw new ExportError(`cannot reach the API at ${r.api}: ${(err as Error).cause ?? (err as Error).message}`, {
      cause: err,
    });
  }
  if (!res.ok || !res.body) {
    const text = await res.text();
    let msg = text;
    try {
      const j = JSON.parse(text) as { message?: string; error?: string };
      msg = j.message ?? j.error ?? text;
    } catch {
      // not JSON: the text as it is
    }
    throw new ExportError(`the API answered ${res.status}: ${msg}`);
  }
  const progress = new Progress({ label: `export ${r.what}`, unit: 'bytes', sink: progressSink });
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      progress.add(chunk.length);
      done(null, chunk);
    },
  });
  const target = typeof out === 'string' ? createWriteStream(out) : out;
  try {
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), count, target, {
      end: typeof out === 'string',
    });
  } catch (err) {
    throw new ExportError(`the export broke off after ${progress.done} bytes: ${(err as Error).message}`, {
      cause: err,
    });
  }
  progress.finish();
  return { bytes: progress.done };
}
