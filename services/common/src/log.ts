import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type DestinationStream, type LevelWithSilent, type Logger } from 'pino';
import { traceLogFields } from './otel/spans.js';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
/** Rotation like the original's RotatingFileHandler: 10 MB per file, 5 kept. */
export const LOG_FILE_SIZE = '10m';
export const LOG_FILES_KEPT = 5;

export interface LogOptions {
  name: string;
  level?: string;
  /** Also write JSON lines to this file, rotated by size. */
  file?: string;
  /** Extra destinations, e.g. JSON-TCP shippers. */
  extra?: DestinationStream[];
  /** Fields on every line (site, agent, …). */
  base?: Record<string, unknown>;
}

/** Accepts the original's level names (DEBUG, INFO, WARNING, ERROR, CRITICAL) as well as pino's. */
export function normaliseLevel(level: string | undefined): LevelWithSilent {
  const l = (level ?? 'info').toLowerCase();
  const mapped = l === 'warning' ? 'warn' : l === 'critical' ? 'fatal' : l;
  if (!(LOG_LEVELS as readonly string[]).includes(mapped)) {
    throw new RangeError(`log level ${JSON.stringify(level)} is not one of ${LOG_LEVELS.join(', ')}`);
  }
  return mapped as LevelWithSilent;
}

export function createLogger(opts: LogOptions): Logger {
  const level = normaliseLevel(opts.level);
  // Streams need a real level; a silent logger never writes to them anyway.
  const streamLevel: pino.Level = level === 'silent' ? 'fatal' : level;
  const streams: pino.StreamEntry[] = [{ level: streamLevel, stream: pino.destination({ fd: 1, sync: false }) }];
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true });
    const roll = pino.transport({
      target: 'pino-roll',
      options: { file: opts.file, size: LOG_FILE_SIZE, limit: { count: LOG_FILES_KEPT }, mkdir: true },
    });
    streams.push({ level: streamLevel, stream: roll });
  }
  for (const s of opts.extra ?? []) streams.push({ level: streamLevel, stream: s });
  return pino(
    {
      name: opts.name,
      level,
      base: { service: opts.name, pid: process.pid, ...opts.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      // trace_id/span_id of the active span on every line logged inside one (empty outside spans).
      mixin: traceLogFields,
    },
    pino.multistream(streams),
  );
}
