// The decoder: FromRadio frames, MeshPackets and MQTT ServiceEnvelopes into contract Reception events.

export { presetChannelName } from '@mmm/meshtastic';
export type { DecodeContext } from './context.js';
export { type DecryptOutcome, decryptPacket } from './decrypt.js';
export {
  decodeMeshPacketBytes,
  decodeServiceEnvelope,
  readServiceEnvelope,
  type ServiceEnvelopeParts,
} from './envelope.js';
export { type FromRadioItem, nodeDbEntry, parseFromRadio } from './fromradio.js';
export { type ChannelKey, ChannelKeyring } from './keyring.js';
export { receptionFromPacket } from './reception.js';
