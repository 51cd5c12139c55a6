import { ContractError, nodeNumFromId } from '@mmm/schemas';
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

export const LIVE_KINDS = ['reception', 'node', 'agent', 'trace', 'link', 'alert'] as const;
export type LiveKind = (typeof LIVE_KINDS)[number];

const Subscribe = Type.Object(
  {
    type: Type.Literal('subscribe'),
    kinds: Type.Optional(Type.Array(Type.Union(LIVE_KINDS.map((k) => Type.Literal(k))), { maxItems: 16 })),
    sites: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 })),
    agents: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 })),
    nodes: Type.Optional(
      Type.Array(Type.Union([Type.String({ maxLength: 16 }), Type.Integer({ minimum: 0, maximum: 0xffffffff })]), {
        maxItems: 10000,
      }),
    ),
    bbox: Type.Optional(
      Type.Tuple([
        Type.Number({ minimum: -180, maximum: 180 }),
        Type.Number({ minimum: -90, maximum: 90 }),
        Type.Number({ minimum: -180, maximum: 180 }),
        Type.Number({ minimum: -90, maximum: 90 }),
      ]),
    ),
  },
  { additionalProperties: false },
);
const check = TypeCompiler.Compile(Subscribe);

/** What one client wants; an absent field matches everything. */
export interface LiveFilter {
  kinds?: ReadonlySet<LiveKind>;
  sites?: ReadonlySet<string>;
  agents?: ReadonlySet<string>;
  nodes?: ReadonlySet<number>;
  /** [minLon, minLat, maxLon, maxLat] */
  bbox?: readonly [number, number, number, number];
}

export type Parsed = { ok: true; filter: LiveFilter } | { ok: false; error: string };

export function parseSubscribe(msg: unknown): Parsed {
  if (!check.Check(msg)) {
    const e = check.Errors(msg).First();
    return { ok: false, error: `subscribe${e?.path ?? ''}: ${e?.message ?? 'invalid'}` };
  }
  const f: { -readonly [K in keyof LiveFilter]: LiveFilter[K] } = {};
  if (msg.kinds) f.kinds = new Set(msg.kinds);
  if (msg.sites) f.sites = new Set(msg.sites);
  if (msg.agents) f.agents = new Set(msg.agents);
  if (msg.nodes) {
    const nums = new Set<number>();
    for (const n of msg.nodes) {
      try {
        nums.add(typeof n === 'number' ? n : nodeNumFromId(n));
      } catch (err) {
        if (err instanceof ContractError) return { ok: false, error: `subscribe/nodes: ${err.message}` };
        throw err;
      }
    }
    f.nodes = nums;
  }
  if (msg.bbox) {
    const [a, b, c, d] = msg.bbox;
    if (a > c || b > d) return { ok: false, error: 'subscribe/bbox: expected [minLon, minLat, maxLon, maxLat]' };
    f.bbox = [a, b, c, d];
  }
  return { ok: true, filter: f };
}

export function describe(f: LiveFilter): Record<string, unknown> {
  return {
    kinds: f.kinds ? [...f.kinds] : null,
    sites: f.sites ? [...f.sites] : null,
    agents: f.agents ? [...f.agents] : null,
    nodes: f.nodes ? f.nodes.size : null,
    bbox: f.bbox ?? null,
  };
}

export function inBox(f: LiveFilter, pos: readonly [number, number] | null | undefined): boolean {
  if (!f.bbox) return true;
  if (!pos) return false;
  const [lat, lon] = pos;
  return lon >= f.bbox[0] && lat >= f.bbox[1] && lon <= f.bbox[2] && lat <= f.bbox[3];
}

export const wants = (f: LiveFilter, kind: LiveKind) => !f.kinds || f.kinds.has(kind);
export const siteOk = (f: LiveFilter, site: string, agent: string) =>
  (!f.sites || f.sites.has(site)) && (!f.agents || f.agents.has(agent));
