import type { ChannelKeyring } from './keyring.js';

/** Who decodes, and where the packet came from: stamped on every event. */
export interface DecodeContext {
  site: string;
  agent: string;
  /** Agent clock, ms since epoch, when the bytes arrived. */
  receivedAt: number;
  source: 'radio' | 'mqtt' | 'replay' | 'legacy-http';
  keys: ChannelKeyring;
  /** MQTT gateway that uplinked the packet (ServiceEnvelope sources). */
  gatewayId?: string;
}
