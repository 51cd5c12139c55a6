// The decoder: FromRadio frames, MeshPackets and MQTT ServiceEnvelopes into contract Reception events.
export type { DecodeContext } from './context.js';
export { type ChannelKey, ChannelKeyring } from './keyring.js';
export { type FromRadioItem, nodeDbEntry, parseFromRadio } from './fromradio.js';
export { receptionFromPacket } from './reception.js';
export { decodeMeshPacketBytes, decodeServiceEnvelope } from './envelope.js';
export { decryptPacket, type DecryptOutcome } from './decrypt.js';
export { presetChannelName } from '@mmm/meshtastic';
