import type { Logger } from 'pino';

type Hook = { name: string; fn: () => Promise<void> | void };

/** Grace period for all shutdown hooks together before the process exits anyway. */
export const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Runs registered hooks in reverse order of registration (last started, first stopped) on SIGINT/SIGTERM,
 * so consumers stop fetching before the connection they use is drained.
 */
export class Shutdown {
  private readonly hooks: Hook[] = [];
  private running: Promise<void> | undefined;
  private readonly handler = (signal: NodeJS.Signals) => {
    this.log?.info({ signal }, 'shutting down');
    void this.run().then(() => process.exit(0));
  };

  constructor(private readonly log?: Logger) {}

  add(name: string, fn: () => Promise<void> | void): this {
    this.hooks.push({ name, fn });
    return this;
  }

  /** Installs SIGINT/SIGTERM handlers that run the hooks and exit 0. */
  listen(): this {
    process.once('SIGINT', this.handler);
    process.once('SIGTERM', this.handler);
    return this;
  }

  run(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
    this.running ??= (async () => {
      const timer = setTimeout(() => {
        this.log?.error({ graceMs }, 'shutdown took too long, exiting');
        process.exit(1);
      }, graceMs);
      timer.unref();
      for (const hook of [...this.hooks].reverse()) {
        try {
          await hook.fn();
        } catch (err) {
          this.log?.warn({ err, hook: hook.name }, 'shutdown hook failed');
        }
      }
      clearTimeout(timer);
      process.off('SIGINT', this.handler);
      process.off('SIGTERM', this.handler);
    })();
    return this.running;
  }
}
