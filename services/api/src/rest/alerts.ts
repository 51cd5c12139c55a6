import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AlertEvent, AlertRule, AlertSilence, validateAlertRule, validateAlertSilence } from '@mmm/schemas';
import { Type } from '@sinclair/typebox';
import { type AlertsAccess, AlertsUnavailableError } from '../alerts/access.js';
import { HttpError, token } from './params.js';

/**
 * Bodies are checked by the contract's own validators rather than by the route schema: the server's validator drops
 * unknown keys silently, and an operator must hear that `treshold` is not a key. The error names the field.
 */
const AnyObject = (description: string) => Type.Object({}, { additionalProperties: true, description });

const AlertOut = Type.Omit(AlertEvent, ['v', 'kind', 'at', 'rule_kind']);
const RuleOut = Type.Intersect([AlertRule, Type.Object({ source: Type.Optional(Type.String()) })]);

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AlertsUnavailableError) throw new HttpError(503, err.message);
    throw err;
  }
}

const strip = ({ v: _v, kind: _k, at: _a, rule_kind: _r, ...rest }: AlertEvent) => rest;

export const alertRoutes =
  (alerts: AlertsAccess): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      '/api/alerts',
      {
        schema: {
          summary: 'Alerts, firing first then the most recent; filters: state, rule, node',
          tags: ['alerts'],
          querystring: Type.Object({
            state: Type.Optional(Type.Union([Type.Literal('firing'), Type.Literal('resolved')])),
            rule: Type.Optional(Type.String({ maxLength: 48 })),
            node: Type.Optional(Type.String({ pattern: '^![0-9a-f]{8}$', description: 'Node id !xxxxxxxx' })),
            token,
          }),
          response: { 200: Type.Object({ alerts: Type.Array(AlertOut) }) },
        },
      },
      async (req) => {
        const q = req.query;
        const list = await alerts.list({
          ...(q.state ? { state: q.state } : {}),
          ...(q.rule ? { rule: q.rule } : {}),
          ...(q.node ? { node_id: q.node } : {}),
        });
        return { alerts: list.map(strip) };
      },
    );

    app.get(
      '/api/alerts/rules',
      {
        schema: {
          summary: "The alerts service's rules in force: its INI file's, with the edits made here",
          tags: ['alerts'],
          querystring: Type.Object({ token }),
          response: { 200: Type.Object({ rules: Type.Array(RuleOut) }) },
        },
      },
      async () => ({ rules: await alerts.rules() }),
    );

    app.post(
      '/api/alerts/rules',
      {
        schema: {
          summary: 'Add or replace a rule (schemas: AlertRule; the keys of an INI [rule_<name>] section and name)',
          tags: ['alerts'],
          body: AnyObject('An AlertRule'),
          response: { 200: Type.Object({ rule: AlertRule }) },
        },
      },
      async (req) => {
        const res = validateAlertRule(req.body);
        if (!res.ok) throw new HttpError(400, `rule field ${res.field}: ${res.error}`);
        await guarded(() => alerts.putRule(res.value));
        return { rule: res.value };
      },
    );

    app.delete(
      '/api/alerts/rules/:name',
      {
        schema: {
          summary: 'Remove a rule (one of the INI file too); its firing alerts resolve',
          tags: ['alerts'],
          params: Type.Object({ name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,47}$' }) }),
          response: { 200: Type.Object({ deleted: Type.String() }) },
        },
      },
      async (req) => {
        await guarded(() => alerts.deleteRule(req.params.name));
        return { deleted: req.params.name };
      },
    );

    app.post(
      '/api/alerts/:id/ack',
      {
        schema: {
          summary: 'Acknowledge an alert: it stays listed as firing but is not notified again',
          tags: ['alerts'],
          params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,200}$' }) }),
          response: { 200: Type.Object({ acknowledged: Type.String() }) },
        },
      },
      async (req) => {
        const a = await alerts.get(req.params.id);
        if (!a) throw new HttpError(404, `no alert ${req.params.id}`);
        await guarded(() => alerts.ack(a.id, req.grant?.source, Date.now()));
        return { acknowledged: a.id };
      },
    );

    app.post(
      '/api/alerts/silences',
      {
        schema: {
          summary: 'Silence notifications of a rule, a node, or a rule on one node, until a time (Unix ms)',
          tags: ['alerts'],
          body: AnyObject('{ "rule"?, "node_id"?, "until", "comment"? }'),
          response: { 200: Type.Object({ silence: AlertSilence }) },
        },
      },
      async (req) => {
        const now = Date.now();
        const body = req.body as Record<string, unknown>;
        const res = validateAlertSilence({ ...body, id: 'new', created_at: now });
        if (!res.ok) throw new HttpError(400, `silence field ${res.field}: ${res.error}`);
        if (res.value.until <= now) throw new HttpError(400, 'silence field until: must be in the future (Unix ms)');
        const { id: _id, created_at: _c, ...rest } = res.value;
        return { silence: await guarded(() => alerts.silence(rest, now)) };
      },
    );
  };
