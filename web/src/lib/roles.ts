// Firmware roles (meshtastic Config.DeviceConfig.Role). CLIENT (0) is the protobuf default and is absent on the
// wire, so a missing role means CLIENT, not "unknown".
import { ROLE_NAMES } from '@mmm/schemas/names';

export { ROLE_NAMES, type RoleName } from '@mmm/schemas/names';

/** Accepts the firmware number, its name, or nothing (= CLIENT); unknown numbers keep their value visible. */
export function roleName(role: number | string | null | undefined): string {
  if (role === null || role === undefined || role === '') return 'CLIENT';
  if (typeof role === 'number') return ROLE_NAMES[role] ?? `ROLE_${role}`;
  const s = role.trim().toUpperCase();
  if (/^\d+$/.test(s)) return roleName(Number(s));
  return (ROLE_NAMES as readonly string[]).includes(s) ? s : s;
}

const BADGE: Record<string, string> = {
  ROUTER: '#d32f2f',
  ROUTER_LATE: '#8e1b1b',
  ROUTER_CLIENT: '#ef6c00',
  CLIENT: '#1976d2',
  CLIENT_MUTE: '#2e7d32',
  CLIENT_BASE: '#00838f',
  CLIENT_HIDDEN: '#455a64',
  REPEATER: '#7b1fa2',
  TRACKER: '#546e7a',
  TAK_TRACKER: '#546e7a',
  TAK: '#5d4037',
  SENSOR: '#00796b',
  LOST_AND_FOUND: '#c2185b',
};

/** Badge colour per role (the original's palette, extended to every firmware role). */
export function roleColor(role: string): string {
  return BADGE[role] ?? '#757575';
}
