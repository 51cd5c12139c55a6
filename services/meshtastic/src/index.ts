export {
  Deframer,
  type DeframerOptions,
  encodeFrame,
  type Frame,
  FRAME_HEADER_LEN,
  FRAME_START1,
  FRAME_START2,
  FrameTooLargeError,
  MAX_FRAME_PAYLOAD,
} from './framing.js';
export { ChannelKeyError, channelHash, DEFAULT_KEY, expandPsk, keyFromBase64, xcrypt } from './crypto.js';
export { isFromRadio } from './validate.js';
export { PRESET_CHANNEL_NAMES, presetChannelName } from './presets.js';
export { rawField } from './raw-field.js';
export * from './protobufs.js';
