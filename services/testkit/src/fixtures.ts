import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The real captures live in ../shared/fixtures/real beside the repository (CI lays shared/ next to the clone).
 * MMM_FIXTURES overrides the location.
 */
function locate(): string {
  if (process.env.MMM_FIXTURES) return resolve(process.env.MMM_FIXTURES);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'shared', 'fixtures', 'real');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('real fixtures not found: set MMM_FIXTURES to the shared/fixtures/real directory');
}

export const FIXTURES_DIR = locate();

export function fixturePath(name: string): string {
  return join(FIXTURES_DIR, name);
}
