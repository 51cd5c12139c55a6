import { Mesh } from '@meshtastic/protobufs';
import { type Port, ROLE_NAMES, roleName } from '@mmm/schemas';
import { legacyPayload, macFromBase64 } from '@mmm/schemas/legacy';

const HW = Mesh.HardwareModel as unknown as Record<string | number, string | number>;

export function iso(ms: number | null | undefined): string | null {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null;
}

export function hwModelName(num: number | null | undefined, name?: string | null): string | null {
  if (name) return name;
  if (num === null || num === undefined) return null;
  const n = HW[num];
  return typeof n === 'string' ? n : `HW_${num}`;
}

export function hwModelNum(name: string): number | undefined {
  const v = HW[name.toUpperCase()];
  return typeof v === 'number' ? v : undefined;
}

export function roleNum(role: unknown): number | undefined {
  if (typeof role === 'number' && Number.isInteger(role) && role >= 0) return role;
  if (typeof role === 'string') {
    const i = (ROLE_NAMES as readonly string[]).indexOf(role.toUpperCase());
    if (i >= 0) return i;
    if (/^[0-9]+$/.test(role)) return Number(role);
  }
  return undefined;
}

export function roleLabel(role: number | null | undefined): string | null {
  return role === null || role === undefined ? null : roleName(role);
}

export function display(short: string | null | undefined, long: string | null | undefined): string | null {
  if (short && long) return `${short} (${long})`;
  return short || long || null;
}

/**
 * A packet's payload as the original's packets API returned it (the wire shape, `@mmm/schemas/legacy`), with the
 * user's MAC, model and role readable, and an undecryptable packet's channel hash kept (the original had null).
 */
export function packetPayload(port: Port, payload: Record<string, unknown>): unknown {
  if (port === 'encrypted') return payload;
  const out = legacyPayload(port, payload);
  if (port !== 'nodeinfo') return out;
  return {
    ...(out as Record<string, unknown>),
    macaddr: macFromBase64(payload.macaddr),
    hw_model: hwModelName(payload.hwModel as number | undefined, payload.hwModelName as string | undefined),
    role: roleLabel((payload.role as number | undefined) ?? 0),
  };
}
