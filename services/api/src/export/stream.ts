import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { FastifyReply } from 'fastify';
import { cell } from './columns.js';

/**
 * Reads the first item before anything is sent: a store that fails at once answers 503 with a JSON error instead of
 * a 200 that breaks off. The source is released when the client goes away, even before the body started.
 */
export async function primed<T>(src: AsyncIterable<T>, reply: FastifyReply): Promise<AsyncIterable<T>> {
  const it = src[Symbol.asyncIterator]();
  const first = await it.next();
  const release = () => void it.return?.()?.catch(() => undefined);
  reply.raw.once('close', release);
  return {
    async *[Symbol.asyncIterator]() {
      try {
        if (first.done) return;
        yield first.value;
        for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      } finally {
        release();
      }
    },
  };
}

/** `packets-20261207T163000Z.csv`: what the export holds and when it was taken. */
export function fileName(what: string, ext: string, at = new Date()): string {
  return `${what}-${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}.${ext}`;
}

function attachment(reply: FastifyReply, type: string, name: string): FastifyReply {
  return reply
    .header('content-type', type)
    .header('content-disposition', `attachment; filename="${name}"`)
    .header('cache-control', 'no-store');
}

/**
 * Rows as CSV (RFC 4180 quoting by csv-stringify), header first; flows at the pace the client reads. Each batch is
 * quoted in one synchronous call and written as one chunk: a stream step per row would cost more than the quoting.
 */
export function sendCsv(
  reply: FastifyReply,
  name: string,
  columns: readonly string[],
  batches: AsyncIterable<readonly Record<string, unknown>[]>,
): FastifyReply {
  async function* text() {
    yield stringify([], { header: true, columns: [...columns] });
    for await (const batch of batches)
      if (batch.length) yield stringify(batch.map((r) => columns.map((c) => cell(r[c]))));
  }
  return attachment(reply, 'text/csv; charset=utf-8', name).send(Readable.from(text()));
}

/** One JSON document per line (NDJSON), one write per batch. */
export function sendNdjson(
  reply: FastifyReply,
  name: string,
  batches: AsyncIterable<readonly unknown[]>,
): FastifyReply {
  async function* lines() {
    for await (const batch of batches) if (batch.length) yield `${batch.map((r) => JSON.stringify(r)).join('\n')}\n`;
  }
  return attachment(reply, 'application/x-ndjson; charset=utf-8', name).send(Readable.from(lines()));
}

/** A GeoJSON FeatureCollection written feature by feature (RFC 7946; media type application/geo+json). */
export function sendFeatures(reply: FastifyReply, name: string, features: AsyncIterable<readonly unknown[]>) {
  async function* text() {
    yield '{"type":"FeatureCollection","features":[';
    let first = true;
    for await (const batch of features) {
      if (!batch.length) continue;
      yield `${first ? '' : ','}${batch.map((f) => JSON.stringify(f)).join(',')}`;
      first = false;
    }
    yield ']}\n';
  }
  return attachment(reply, 'application/geo+json; charset=utf-8', name).send(Readable.from(text()));
}
