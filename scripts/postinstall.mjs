#!/usr/bin/env node
// @meshtastic/protobufs 2.7.18 names dist/mod.d.ts as its types but ships its declarations as dist/mod-<hash>.d.ts.
// Write the missing entry so TypeScript finds a declaration file. (That bundled file exports namespaces it never
// declares, so message types still come out as `any`; see docs/adr/0004. A tsconfig `paths` mapping would also
// redirect tsx at run time, to a file with no JavaScript in it.)
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../node_modules/@meshtastic/protobufs/dist/', import.meta.url));
if (existsSync(dist) && !existsSync(`${dist}mod.d.ts`)) {
  const hashed = readdirSync(dist).find((f) => /^mod-.*\.d\.ts$/.test(f));
  if (hashed) writeFileSync(`${dist}mod.d.ts`, `export * from './${hashed.replace(/\.d\.ts$/, '.js')}';\n`);
}
