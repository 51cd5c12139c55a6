#!/usr/bin/env node
// Runs before `npm start` and `npm test` so that each is one command on a fresh Debian/Ubuntu machine with Node 20+:
// installs npm dependencies when missing or stale, installs missing system packages when run as root (otherwise
// prints the exact command), and builds every workspace (turbo caches unchanged ones).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';

const mode = process.argv[2] ?? 'start';
const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

/** binary (or a file's absolute path) -> Debian package; `start` needs only the broker, tests need every server they start. */
const SYSTEM = {
  start: { 'nats-server': 'nats-server' },
  test: {
    'nats-server': 'nats-server',
    'clickhouse-server': 'clickhouse-server',
    'clickhouse-client': 'clickhouse-client',
    // Replicated ClickHouse tests: Debian's ZooKeeper (its jar; the package pulls in a Java runtime).
    '/usr/share/java/zookeeper.jar': 'zookeeper',
    chromium: 'chromium',
    socat: 'socat',
    // MQTT bridge tests: the broker lives in /usr/sbin (not on a user's PATH), the clients in /usr/bin.
    '/usr/sbin/mosquitto': 'mosquitto',
    mosquitto_pub: 'mosquitto-clients',
    'systemd-analyze': 'systemd',
    'systemd-nspawn': 'systemd-container',
  },
};

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.error(`bootstrap: ${cmd} ${args.join(' ')} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

function has(binary) {
  // A package without a command of its own is known by a file it installs.
  if (binary.startsWith('/')) return existsSync(binary);
  try {
    execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// 1. npm dependencies
const lock = 'package-lock.json';
const installed = 'node_modules/.package-lock.json';
if (!existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs) {
  console.log('bootstrap: installing npm dependencies (npm ci; better-sqlite3 compiles, about 2 minutes)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

// 2. system packages
if (!process.env.MMM_SKIP_SYSTEM) {
  const missing = Object.entries(SYSTEM[mode] ?? SYSTEM.start)
    .filter(([bin]) => !has(bin))
    .map(([, pkg]) => pkg);
  if (missing.length > 0) {
    const isRoot = process.getuid?.() === 0;
    if (isRoot && has('apt-get')) {
      console.log(`bootstrap: installing system packages: ${missing.join(' ')}`);
      // The packaged servers must not start themselves: tests and `mmm up` start their own on free ports.
      if (!existsSync('/usr/sbin/policy-rc.d')) {
        writeFileSync('/usr/sbin/policy-rc.d', '#!/bin/sh\nexit 101\n', { mode: 0o755 });
      }
      run('apt-get', ['update', '-qq'], { DEBIAN_FRONTEND: 'noninteractive' });
      run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
        DEBIAN_FRONTEND: 'noninteractive',
      });
    } else {
      console.error(`bootstrap: missing system packages: ${missing.join(' ')}`);
      console.error(
        `install them with:\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`,
      );
      process.exit(1);
    }
  }
}

// 3. build (the CLI runs from dist/, the API serves web/dist/)
run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], { TURBO_TELEMETRY_DISABLED: '1' });
