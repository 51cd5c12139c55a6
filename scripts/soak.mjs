#!/usr/bin/env node
// `npm run soak -- <scenario>`: the long form of a fault test, with the same assertions as its CI form.
//   cluster: services/cli/src/cluster/faults.test.ts at the sizes: 500 receptions/s from 3 sites,
//            5 kill -9s of a hub node (each down 20-60 s) spread over MMM_SOAK_MINUTES (10), a rolling restart,
//            a site cut off for MMM_SOAK_MINUTES, 10 kill -9s of one of two ingest copies.
// Environment: MMM_SOAK_MINUTES (default 10), MMM_SOAK_RATE (receptions/s, default 500).
// Each case prints one JSON line ({"scenario":"cluster-faults","case":...}) with its counts and ingest gaps.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCENARIOS = {
  cluster: { cwd: 'services/cli', file: 'src/cluster/faults.test.ts' },
};
const [scenario] = process.argv.slice(2);
const s = SCENARIOS[scenario];
if (!s) {
  console.error(`usage: npm run soak -- <scenario>\nscenarios: ${Object.keys(SCENARIOS).join(', ')}`);
  process.exit(scenario && scenario !== '--help' ? 2 : 0);
}
const root = fileURLToPath(new URL('..', import.meta.url));
const r = spawnSync('npx', ['vitest', 'run', s.file], {
  cwd: `${root}${s.cwd}`,
  stdio: 'inherit',
  env: { ...process.env, MMM_SOAK: '1' },
});
process.exit(r.status ?? 1);
