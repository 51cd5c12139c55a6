import { hostname } from 'node:os';
import { isMainThread, threadId } from 'node:worker_threads';

/** pino's numeric levels to the original's (Python logging) level names. */
const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARNING',
  50: 'ERROR',
  60: 'CRITICAL',
};

/** pino fields that become named record fields rather than being copied through. */
const CONSUMED = new Set([
  'level',
  'time',
  'msg',
  'name',
  'service',
  'pid',
  'hostname',
  'err',
  'module',
  'function',
  'line',
]);

export interface RecordTags {
  application: string;
  environment: string;
}

const HOST = hostname();

/**
 * Turns one pino JSON line into the original's record: `timestamp` (epoch seconds, float), `iso_timestamp` (UTC,
 * second precision, `Z`), `level`, `logger`, `message`, `application`, `environment`, `host`, `thread`,
 * `thread_name`, `process`, `module`, `exception` (stack of a logged error); every other field (trace ids, site,
 * agent, …) is kept as is. A line that is not JSON is shipped as the message of an INFO record, never lost.
 */
export function toRecord(line: string, tags: RecordTags): Record<string, unknown> {
  let src: Record<string, unknown>;
  try {
    const parsed = JSON.parse(line) as unknown;
    src =
      parsed && typeof parsed === 'object' && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : { msg: line };
  } catch {
    src = { msg: line.replace(/\n$/, '') };
  }
  const ms = typeof src.time === 'number' ? src.time : typeof src.time === 'string' ? Date.parse(src.time) : Number.NaN;
  const at = Number.isFinite(ms) ? ms : Date.now();
  const level =
    typeof src.level === 'number'
      ? (LEVEL_NAMES[src.level] ?? String(src.level))
      : String(src.level ?? 'INFO').toUpperCase();
  const logger = String(src.name ?? src.service ?? 'meshymcmapface');
  const record: Record<string, unknown> = {
    timestamp: at / 1000,
    iso_timestamp: `${new Date(at).toISOString().slice(0, 19)}Z`,
    level,
    logger,
    message: typeof src.msg === 'string' ? src.msg : src.msg === undefined ? '' : JSON.stringify(src.msg),
    application: tags.application,
    environment: tags.environment,
    host: HOST,
    thread: threadId,
    thread_name: isMainThread ? 'main' : `worker-${threadId}`,
    process: typeof src.pid === 'number' ? src.pid : process.pid,
    module: typeof src.module === 'string' ? src.module : logger,
  };
  if (typeof src.function === 'string') record.function = src.function;
  if (typeof src.line === 'number') record.line = src.line;
  const err = src.err as { stack?: unknown; message?: unknown; type?: unknown } | undefined;
  if (err && typeof err === 'object') {
    record.exception =
      typeof err.stack === 'string' ? err.stack : `${String(err.type ?? 'Error')}: ${String(err.message ?? '')}`;
  }
  for (const [k, v] of Object.entries(src)) if (!CONSUMED.has(k) && !(k in record)) record[k] = v;
  return record;
}
