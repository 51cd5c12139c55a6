import {
  type AlertRule,
  type AlertRuleEntry,
  type AlertSilence,
  validateAlertRule,
  validateAlertSilence,
} from '@mmm/schemas';
import type { KV } from 'nats';
import type { Logger } from 'pino';

export interface ControlHandlers {
  /** Rules added or replaced (`rule`) or removed (`undefined`) at run time. */
  rule(name: string, entry: AlertRuleEntry | undefined): void;
  silence(id: string, s: AlertSilence | undefined): void;
  ack(alertId: string): void;
}

/**
 * Follows the control bucket, where the API writes what operators change at run time. Resolves once the current
 * content was delivered, so the first evaluation already has the run-time rules and silences. A malformed entry is
 * logged and skipped: whoever wrote it (the API validates) gets no say over the service's health.
 */
export async function followControl(kv: KV, h: ControlHandlers, log: Logger): Promise<{ stop(): void }> {
  let initialized: () => void = () => undefined;
  const ready = new Promise<void>((res) => {
    initialized = res;
  });
  const w = await kv.watch({ key: '>', initializedFn: () => initialized() });
  void (async () => {
    for await (const e of w) {
      const deleted = e.operation !== 'PUT';
      try {
        const value = deleted ? undefined : e.json<unknown>();
        if (e.key.startsWith('rule.')) {
          const name = e.key.slice('rule.'.length);
          if (!value) h.rule(name, undefined);
          else if ((value as { deleted?: unknown }).deleted === true) h.rule(name, { name, deleted: true });
          else {
            const res = validateAlertRule(value);
            if (!res.ok) throw new Error(res.error);
            h.rule(name, res.value as AlertRule);
          }
        } else if (e.key.startsWith('silence.')) {
          const id = e.key.slice('silence.'.length);
          if (!value) h.silence(id, undefined);
          else {
            const res = validateAlertSilence(value);
            if (!res.ok) throw new Error(res.error);
            h.silence(id, res.value);
          }
        } else if (e.key.startsWith('ack.') && !deleted) {
          h.ack(e.key.slice('ack.'.length));
        }
      } catch (err) {
        log.warn({ key: e.key, err: (err as Error).message }, 'ignored a control entry');
      }
    }
  })();
  await ready;
  return { stop: () => w.stop() };
}
