import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { DecodeContext } from './context.js';
import type { ChannelKeyring } from './keyring.js';
import { DEFAULT_SOURCE, decodeLine, type InputFormat } from './line.js';

export interface DecodeRunOptions {
  input: Readable;
  output: Writable;
  format: InputFormat;
  keys: ChannelKeyring;
  site: string;
  agent: string;
  source?: DecodeContext['source'];
  /** Clock for receivedAt; the agent stamps the time the bytes arrived. */
  now?: () => number;
}

export interface DecodeRunSummary {
  lines: number;
  events: number;
  errors: number;
  skipped: Record<string, number>;
  /** The reader stopped early because the output was closed (e.g. piped into `head`). */
  outputClosed: boolean;
}

/** Thrown when the input itself cannot be read (not for bad lines, which become error lines). */
export class InputReadError extends Error {
  override readonly name = 'InputReadError';
}

/**
 * Reads base64 lines, writes one JSON line per input line that produced something: the event exactly as the agent
 * would publish it, or {"error", "line"} for bad input. Blank lines are ignored. It never stops on a bad line.
 */
export async function runDecode(opts: DecodeRunOptions): Promise<DecodeRunSummary> {
  const summary: DecodeRunSummary = { lines: 0, events: 0, errors: 0, skipped: {}, outputClosed: false };
  const now = opts.now ?? Date.now;
  const source = opts.source ?? DEFAULT_SOURCE[opts.format];
  let inputError: Error | undefined;
  opts.input.on('error', (err) => {
    inputError = err;
  });
  let closed = false;
  const onOutputError = (): void => {
    closed = true;
  };
  opts.output.on('error', onOutputError);
  const rl = createInterface({ input: opts.input, crlfDelay: Number.POSITIVE_INFINITY });
  const write = async (s: string): Promise<void> => {
    if (closed) return;
    if (!opts.output.write(`${s}\n`)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          opts.output.off('drain', done);
          opts.output.off('close', done);
          opts.output.off('error', done);
          resolve();
        };
        opts.output.on('drain', done).on('close', done).on('error', done);
      });
    }
  };
  try {
    for await (const rawLine of rl) {
      summary.lines++;
      const line = rawLine.trim();
      if (line === '') continue;
      const ctx: DecodeContext = { site: opts.site, agent: opts.agent, receivedAt: now(), source, keys: opts.keys };
      const out = decodeLine(line, opts.format, ctx);
      if (out.kind === 'event') {
        summary.events++;
        await write(JSON.stringify(out.event));
      } else if (out.kind === 'error') {
        summary.errors++;
        await write(JSON.stringify({ error: out.error, line: summary.lines }));
      } else {
        summary.skipped[out.what] = (summary.skipped[out.what] ?? 0) + 1;
      }
      if (closed) {
        summary.outputClosed = true;
        break;
      }
    }
  } catch (err) {
    inputError ??= err as Error;
  } finally {
    rl.close();
    opts.output.off('error', onOutputError);
  }
  if (inputError) throw new InputReadError(`cannot read input: ${inputError.message}`, { cause: inputError });
  return summary;
}
