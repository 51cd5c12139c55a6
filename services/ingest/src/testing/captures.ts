import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeEvent, type MeshEvent, subjects } from '@mmm/schemas';
import { fixturePath } from '@mmm/testkit';
import type { SimEvent } from './sim-hour.js';

const REPO = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));

export interface DecodedCapture {
  readonly events: SimEvent[];
  readonly errors: number;
}

/**
 * Decodes a real capture with the agent's decoder, run as users run it (`mmm decode`, from source), so ingest is
 * tested on exactly the events agents publish. Every output line is checked against the contract on its subject.
 */
export function decodeCapture(
  file: string,
  format: 'envelope' | 'packet',
  agent: string,
  receivedAt: number,
): Promise<DecodedCapture> {
  return new Promise((ok, fail) => {
    const child = spawn(
      process.execPath,
      ['services/cli/bin/mmm.js', 'decode', '--format', format, '--site', 'replay', '--agent', agent, '--quiet'],
      { cwd: REPO, env: { ...process.env, MMM_FROM_SOURCE: '1' }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    createReadStream(fixturePath(file)).pipe(child.stdin!);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('exit', (code) => {
      if (code !== 0) return fail(new Error(`mmm decode exited ${code}: ${err}`));
      const events: SimEvent[] = [];
      let errors = 0;
      for (const [i, line] of out
        .split('\n')
        .filter((l) => l.trim())
        .entries()) {
        const parsed = JSON.parse(line) as { error?: string } & Record<string, unknown>;
        if (parsed.error !== undefined && parsed.kind === undefined) {
          errors++;
          continue;
        }
        // Receive times as a replaying agent stamps them: now-ish, so retention keeps them; one ms apart, in order.
        const ev = { ...parsed, receivedAt: receivedAt + i } as unknown as MeshEvent & {
          agent: string;
          port: Parameters<typeof subjects.rx>[2];
        };
        const subject = subjects.rx('replay', ev.agent, ev.port);
        const res = decodeEvent(subject, JSON.stringify(ev));
        if (!res.ok) return fail(new Error(`line ${i + 1} of ${file} is not a valid event: ${res.error}`));
        events.push({ subject, event: res.value, at: receivedAt + i });
      }
      ok({ events, errors });
    });
  });
}
