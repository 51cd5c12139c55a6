// `@mmm/schemas/legacy`: the original system's HTTP wire format, in one place for the agent, the API and the web.
export {
  type LegacyLocation,
  legacyDataBody,
  legacyNodeDbBody,
  legacyNodeStatus,
  legacyPacket,
  legacyPayload,
  legacyRegisterBody,
  legacyRoute,
  legacyRoutesBody,
} from './encode.js';
export {
  camelCase,
  isLegacyPacketType,
  LEGACY_PACKET_TYPES,
  type LegacyPacketType,
  legacyTypeOfPort,
  macFromBase64,
  macToBase64,
  nodeRef,
  portOfLegacyType,
  portOfTypeName,
  snakeCase,
  snakeKeys,
  snrDb,
  TYPE_NAMES,
  typeNameOfPort,
} from './vocabulary.js';
