// Tolerant readers for JSON from the API: the first present key wins, and a value of the wrong type counts as
// missing instead of flowing into the UI as garbage.

export type Obj = Record<string, unknown>;

export function obj(v: unknown): Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function first(o: Obj, keys: readonly string[]): unknown {
  for (const k of keys) {
    const v = k.includes('.') ? k.split('.').reduce<unknown>((acc, p) => obj(acc)[p], o) : o[k];
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

export function num(o: Obj, ...keys: string[]): number | null {
  const v = first(o, keys);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

export function str(o: Obj, ...keys: string[]): string | null {
  const v = first(o, keys);
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return null;
}

export function bool(o: Obj, ...keys: string[]): boolean | null {
  const v = first(o, keys);
  return typeof v === 'boolean' ? v : null;
}

export function any(o: Obj, ...keys: string[]): unknown {
  return first(o, keys);
}
