export { ChannelKeyError, channelHash, DEFAULT_KEY, expandPsk, keyFromBase64, xcrypt } from './crypto.js';
export {
  Deframer,
  type DeframerOptions,
  encodeFrame,
  FRAME_HEADER_LEN,
  FRAME_START1,
  FRAME_START2,
  type Frame,
  FrameTooLargeError,
  MAX_FRAME_PAYLOAD,
} from './framing.js';
export { PRESET_CHANNEL_NAMES, presetChannelName } from './presets.js';
export * from './protobufs.js';
export { rawField } from './raw-field.js';
export { fromBinaryLenient, repairUtf8 } from './utf8-repair.js';
export { isFromRadio } from './validate.js';
