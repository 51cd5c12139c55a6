import { Type } from '@sinclair/typebox';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Access } from './auth/access.js';

/**
 * The body of every error answer (the error handler in app.ts; the original agents' routes send `error` alone). One
 * schema, so OpenAPI clients can type the errors as well as the answers.
 */
export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'The status text (e.g. Bad Request), or what the original agents read' }),
    message: Type.Optional(Type.String({ description: 'What was wrong, naming the parameter or field' })),
    statusCode: Type.Optional(Type.Integer()),
  },
  { $id: 'ErrorBody', title: 'Error', additionalProperties: true },
);

const ref = { $ref: 'ErrorBody#' };

/** Which error answers a route can give, from what it takes and who may call it. */
function errorCodes(r: RouteOptions, access: Access | undefined): number[] {
  const s = (r.schema ?? {}) as { querystring?: unknown; params?: unknown; body?: unknown };
  const codes = [500];
  if (s.querystring || s.params || s.body) codes.push(400);
  if (s.params) codes.push(404);
  if (access && access !== 'public') codes.push(401, 403, 429);
  // History reads answer 503 while the history store cannot be reached.
  if (/^\/api\/(packets|nodes|export|stats)/.test(r.url)) codes.push(503);
  return codes;
}

/**
 * Adds the error answers to each documented route's response schemas as it is registered (after the access policy's
 * hook, which sets `config.access`), unless the route declares them itself. Call before any route is registered.
 */
export function documentErrors(app: FastifyInstance): void {
  app.addSchema(ErrorBody);
  app.addHook('onRoute', (r: RouteOptions & { websocket?: boolean }) => {
    const schema = r.schema as { hide?: boolean; response?: Record<string, unknown> } | undefined;
    if (!schema || schema.hide || r.websocket) return;
    const access = (r.config as { access?: Access } | undefined)?.access;
    const response = { ...(schema.response ?? {}) };
    for (const code of errorCodes(r, access)) response[String(code)] ??= ref;
    r.schema = { ...schema, response };
  });
}
