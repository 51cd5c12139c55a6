/**
 * The agent id (a subject token) under which a gateway's receptions are published. Node ids (`!55c76a9c`) become
 * `gw-55c76a9c`; anything else a gateway calls itself is reduced to token characters, so a hostile or broken
 * gateway_id can never change the subject's shape. The id itself rides along unchanged in `gatewayId`.
 */
export function gatewayAgent(gatewayId: string): string {
  const m = /^!([0-9a-fA-F]{8})$/.exec(gatewayId);
  if (m) return `gw-${m[1]!.toLowerCase()}`;
  const token = gatewayId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 61);
  return `gw-${token || '_'}`;
}
