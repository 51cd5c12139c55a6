import { execFileSync } from 'node:child_process';

/**
 * `sync_interval: always` (fsync every write, so a power cut at the site loses nothing acknowledged) exists from
 * nats-server 2.10; 2.9 (Debian 12) rejects the key. Unknown or missing server: assume a current one.
 */
export function natsServerSupportsSync(binary = 'nats-server'): boolean {
  try {
    const out = execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 5000 });
    const m = /v(\d+)\.(\d+)/.exec(out);
    if (!m) return true;
    return Number(m[1]) > 2 || (Number(m[1]) === 2 && Number(m[2]) >= 10);
  } catch {
    return true;
  }
}

export function syncLine(supported: boolean): string {
  return supported ? 'sync_interval: always' : '# sync_interval: always   (needs nats-server >= 2.10; 2.9 rejects it)';
}
