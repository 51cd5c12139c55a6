#!/usr/bin/env node
// Runs the built CLI. In a checkout that has not been built (or with MMM_FROM_SOURCE=1) it runs the TypeScript
// sources through tsx (resolved from here, so it works from any directory), resolving workspace packages to their src/ via the "development" export condition.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/main.js', import.meta.url);
if (existsSync(fileURLToPath(built)) && !process.env.MMM_FROM_SOURCE) {
  await import(built.href);
} else {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--conditions=development', '--import', import.meta.resolve('tsx'), main, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}
