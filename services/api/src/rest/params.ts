import { ContractError, nodeNumFromId } from '@mmm/schemas';
import { type TSchema, Type } from '@sinclair/typebox';

/** An expected client error: becomes a 4xx JSON response with this message. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const NODE_ID_PATTERN = '^(![0-9a-fA-F]{1,8}|0[xX][0-9a-fA-F]{1,8}|[0-9]{1,10}|[0-9a-fA-F]{8}|\\^all)$';
export const NodeIdParam = Type.String({
  pattern: NODE_ID_PATTERN,
  description: 'Node id: !xxxxxxxx, 0x…, 8 hex digits or decimal',
});
export const AgentIdParam = Type.String({ minLength: 1, maxLength: 64, description: 'Agent id' });

export const hours = (def: number) =>
  Type.Integer({ minimum: 1, maximum: 8760, default: def, description: 'Look back this many hours' });
export const limit = (def: number, max: number) =>
  Type.Integer({ minimum: 1, maximum: max, default: def, description: 'Rows per page' });
export const HOUR = 3_600_000;
export const offset = Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0, description: 'Rows to skip' });
export const token = Type.Optional(
  Type.String({ maxLength: 256, description: 'Read token (when [auth] read_tokens is set)' }),
);

/** Parses a node id that passed the pattern; a decimal above 32 bits is still refused here. */
export function parseNode(value: string, name: string): number {
  try {
    return nodeNumFromId(value);
  } catch (err) {
    if (err instanceof ContractError) throw new HttpError(400, `${name}: ${err.message}`);
    throw err;
  }
}

/** The original's `agent_id=all` means no filter. */
export function agentFilter(agentId: string | undefined): string | undefined {
  return agentId && agentId !== 'all' ? agentId : undefined;
}

export const ErrorBody = Type.Object({
  error: Type.String(),
  message: Type.Optional(Type.String()),
  statusCode: Type.Optional(Type.Integer()),
});
