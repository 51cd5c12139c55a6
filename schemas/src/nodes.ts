import { ContractError } from './errors.js';

/** Meshtastic's broadcast address. */
export const BROADCAST_NUM = 0xffffffff;

/** `!xxxxxxxx`, the form every Meshtastic tool prints. */
export function nodeIdFromNum(num: number): string {
  if (!Number.isInteger(num) || num < 0 || num > 0xffffffff) {
    throw new ContractError(`node number ${num} is not an unsigned 32-bit integer`);
  }
  return `!${num.toString(16).padStart(8, '0')}`;
}

/** Accepts `!xxxxxxxx`, `0x…`, plain hex of 8 digits, or a decimal number; `^all` is the broadcast address. */
export function nodeNumFromId(id: string): number {
  const s = id.trim();
  if (s === '^all') return BROADCAST_NUM;
  let num: number;
  if (/^![0-9a-fA-F]{1,8}$/.test(s)) num = Number.parseInt(s.slice(1), 16);
  else if (/^0x[0-9a-fA-F]{1,8}$/i.test(s)) num = Number.parseInt(s.slice(2), 16);
  else if (/^[0-9]{1,10}$/.test(s)) num = Number(s);
  else if (/^[0-9a-fA-F]{8}$/.test(s)) num = Number.parseInt(s, 16);
  else throw new ContractError(`node id ${JSON.stringify(id)} is not of the form !xxxxxxxx`);
  if (num > 0xffffffff) throw new ContractError(`node id ${JSON.stringify(id)} is larger than 32 bits`);
  return num;
}

/** Firmware roles (Config.DeviceConfig.Role). CLIENT (0) is the protobuf default and is absent on the wire. */
export const ROLE_NAMES = [
  'CLIENT',
  'CLIENT_MUTE',
  'ROUTER',
  'ROUTER_CLIENT',
  'REPEATER',
  'TRACKER',
  'SENSOR',
  'TAK',
  'CLIENT_HIDDEN',
  'LOST_AND_FOUND',
  'TAK_TRACKER',
  'ROUTER_LATE',
  'CLIENT_BASE',
] as const;

export type RoleName = (typeof ROLE_NAMES)[number];

export function roleName(role: number | undefined | null): string {
  const r = role ?? 0;
  return (ROLE_NAMES as readonly string[])[r] ?? `ROLE_${r}`;
}
