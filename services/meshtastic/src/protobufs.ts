// One place that imports the Meshtastic protobuf definitions and the protobuf runtime, so every package uses the
// same versions. (@meshtastic/protobufs 2.7.18 ships its declarations under a hashed file name; tsconfig.base.json
// maps the module name to it.)
export { create, type DescMessage, fromBinary, fromJson, type JsonValue, toBinary, toJson } from '@bufbuild/protobuf';
export { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
export {
  Admin,
  Channel,
  Config,
  Mesh,
  ModuleConfig,
  Mqtt,
  PaxCount,
  Portnums,
  StoreForward,
  Telemetry,
} from '@meshtastic/protobufs';
