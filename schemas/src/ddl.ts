import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The storage DDL is part of the contract: this package owns schemas/ddl and is the one reader of it (the same path
 * from src/ and dist/). A subpath of its own (`@mmm/schemas/ddl`), so the browser bundle never sees node:fs.
 */
export const DDL_DIR = fileURLToPath(new URL('../ddl/', import.meta.url));

export class DdlError extends Error {
  override readonly name = 'DdlError';
}

/** A directory of schemas/ddl: one per store, and one per ClickHouse layout. */
export type DdlSet = 'clickhouse' | 'clickhouse-replicated' | 'sqlite';

/** Every statement of every `*.sql` file of a store, files in name order (001_, 002_, …). */
export function ddlStatements(store: DdlSet, dir = DDL_DIR): string[] {
  const storeDir = join(dir, store);
  let files: string[];
  try {
    files = readdirSync(storeDir)
      .filter((f) => f.endsWith('.sql'))
      .sort();
  } catch (cause) {
    throw new DdlError(`cannot read the ${store} DDL in ${storeDir}`, { cause });
  }
  if (files.length === 0) throw new DdlError(`no ${store} DDL files in ${storeDir}`);
  return files.flatMap((f) =>
    readFileSync(join(storeDir, f), 'utf8')
      .split(/;\s*\n/)
      .map((s) =>
        s
          .split('\n')
          .filter((l) => !l.trim().startsWith('--'))
          .join('\n')
          .trim(),
      )
      .filter((s) => s.length > 0),
  );
}
