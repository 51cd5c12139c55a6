#!/usr/bin/env node
// `npm run bench -- <scenario> [args]`: runs bench/<scenario>.ts (TypeScript sources via tsx, workspace packages
// resolved to src/). Each scenario prints one JSON line per measured case on stdout, including a raw JetStream
// baseline measured in the same run; progress goes to stderr.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../bench/', import.meta.url));
const scenarios = readdirSync(dir)
  .filter((f) => /\.(ts|mjs)$/.test(f) && !f.startsWith('_'))
  .map((f) => f.replace(/\.(ts|mjs)$/, ''));
const [scenario, ...args] = process.argv.slice(2);
if (!scenario || scenario === '--help' || !scenarios.includes(scenario)) {
  console.error(`usage: npm run bench -- <scenario> [args]\nscenarios: ${scenarios.join(', ') || '(none yet)'}`);
  process.exit(scenario && scenario !== '--help' ? 2 : 0);
}
const file = ['ts', 'mjs'].map((e) => `${dir}${scenario}.${e}`).find((f) => existsSync(f));
const r = spawnSync(process.execPath, ['--conditions=development', '--import', 'tsx', file, ...args], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
