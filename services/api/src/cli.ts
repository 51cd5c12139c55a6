import { randomBytes } from 'node:crypto';
import {
  createLogger,
  loadConfig,
  logShippersFromConfig,
  runService,
  type ServiceCliOptions,
  Shutdown,
  sampleConfig,
  serviceOptions,
  startTelemetry,
} from '@mmm/common';
import type { Command } from 'commander';
import { apiConfigSpec } from './config.js';
import { parseTokensFile, TokenFileError } from './http/auth/tokens.js';

/** `--create-config`: a sample with one random key per agent id, like the original's generator. */
export function createConfigText(agents: readonly string[] = ['agent_001', 'agent_002']): string {
  const keys = Object.fromEntries(agents.map((a) => [a, randomBytes(16).toString('hex')]));
  return `# MeshyMcMapface API (mmm api). Every key: MMM_<SECTION>_<KEY> in the environment overrides the file.\n${sampleConfig(apiConfigSpec, { api_keys: keys })}`;
}

/** `--create-token`: one line for `[auth] tokens_file`, with a random token; the scopes are checked as the file's. */
export function createTokenLine(scopes = 'read'): string {
  const line = `${scopes} ${randomBytes(24).toString('base64url')}`;
  parseTokensFile(line, '--create-token');
  return `${line}\n`;
}

export function register(program: Command): void {
  const cmd = program
    .command('api')
    .description(
      "REST API (the original server's endpoints, fixed), the original agents' HTTP API, the live WebSocket feed at /api/live, /metrics, and the built web app; default 127.0.0.1:8082",
    )
    .option(
      '--create-config [agents]',
      'print a sample config with random API keys for these comma-separated agent ids, then exit',
    )
    .option(
      '--create-token [scopes]',
      'print a line for [auth] tokens_file with a random token (scopes: read, metrics, alerts-write, legacy-write:<agent_id>; default read), then exit',
    );
  for (const [flags, desc] of serviceOptions) cmd.option(flags, desc);
  cmd.addHelpText(
    'after',
    '\nExamples:\n  mmm api --create-config gw-1,gw-2 > api.ini\n  mmm api --create-token read,metrics >> api-tokens\n  mmm api --config api.ini\n\nEndpoints: docs/api.md; OpenAPI at /api/openapi.json.',
  );
  cmd.action(async (opts: ServiceCliOptions & { createConfig?: string | boolean; createToken?: string | boolean }) => {
    if (opts.createToken) {
      try {
        process.stdout.write(createTokenLine(typeof opts.createToken === 'string' ? opts.createToken : undefined));
      } catch (err) {
        if (!(err instanceof TokenFileError)) throw err;
        process.stderr.write(`mmm api: ${err.message}\n`);
        process.exitCode = 2;
      }
      return;
    }
    if (opts.createConfig) {
      const agents =
        typeof opts.createConfig === 'string'
          ? opts.createConfig
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : undefined;
      process.stdout.write(createConfigText(agents));
      return;
    }
    await runService(opts, async () => {
      const cfg = loadConfig(apiConfigSpec, opts.config);
      const log = createLogger({
        name: 'api',
        level: opts.logLevel ?? cfg.log.level,
        file: opts.logFile ?? cfg.log.file,
        extra: logShippersFromConfig(cfg),
      });
      const telemetry = await startTelemetry(cfg.opentelemetry, { serviceName: 'mmm-api' });
      const { startApi } = await import('./main.js');
      // Installed before the start: SIGHUP's default action would end the process.
      let reload: (() => boolean) | undefined;
      process.on('SIGHUP', () => {
        log.info({ signal: 'SIGHUP' }, 'reloading tokens');
        reload?.();
      });
      const svc = await startApi(cfg, log);
      reload = svc.reloadAuth;
      new Shutdown(log)
        .add('telemetry', () => telemetry.shutdown())
        .add('api', () => svc.close())
        .listen();
    });
  });
}
