import {
  type DescMessage,
  fromBinaryLenient,
  Mesh,
  Mqtt,
  PaxCount,
  StoreForward,
  Telemetry,
  toJson,
} from '@mmm/meshtastic';
import { PORTNUM, type Port, portFromPortnum } from '@mmm/schemas';

/** Protobuf JSON as the contract wants it: wire camelCase names, enums as integers, zero values kept. */
export const JSON_OPTIONS = { alwaysEmitImplicit: true, enumAsInteger: true } as const;

export type JsonObject = Record<string, unknown>;

export function messageJson<D extends DescMessage>(schema: D, bytes: Uint8Array): JsonObject {
  return toJson(schema, fromBinaryLenient(schema, bytes), JSON_OPTIONS) as JsonObject;
}

/** Adds degrees next to the firmware's 1e-7 integer coordinates, when they are present. */
export function withDegrees(obj: JsonObject): JsonObject {
  if (typeof obj.latitudeI === 'number') obj.latitude = obj.latitudeI / 1e7;
  if (typeof obj.longitudeI === 'number') obj.longitude = obj.longitudeI / 1e7;
  return obj;
}

const utf8 = new TextDecoder('utf-8');
const text = (bytes: Uint8Array): JsonObject => ({ text: utf8.decode(bytes) });

const DECODERS: Partial<Record<Port, (bytes: Uint8Array) => JsonObject>> = {
  text,
  rangetest: text,
  position: (b) => withDegrees(messageJson(Mesh.PositionSchema, b)),
  nodeinfo: (b) => messageJson(Mesh.UserSchema, b),
  telemetry: (b) => messageJson(Telemetry.TelemetrySchema, b),
  routing: (b) => messageJson(Mesh.RoutingSchema, b),
  traceroute: (b) => messageJson(Mesh.RouteDiscoverySchema, b),
  neighborinfo: (b) => messageJson(Mesh.NeighborInfoSchema, b),
  waypoint: (b) => withDegrees(messageJson(Mesh.WaypointSchema, b)),
  mapreport: (b) => withDegrees(messageJson(Mqtt.MapReportSchema, b)),
  storeforward: (b) => messageJson(StoreForward.StoreAndForwardSchema, b),
  paxcounter: (b) => messageJson(PaxCount.PaxcountSchema, b),
};

/** Ports that are not first-class but carry plain text worth showing next to their bytes. */
const TEXT_PORTNUMS = new Set<number>([PORTNUM.DETECTION_SENSOR_APP, 11 /* ALERT_APP */]);

export function otherPayload(portnum: number, bytes: Uint8Array, error?: string): JsonObject {
  const out: JsonObject = { portnum, bytes: Buffer.from(bytes).toString('base64') };
  if (TEXT_PORTNUMS.has(portnum)) out.text = utf8.decode(bytes);
  if (error !== undefined) out.error = error;
  return out;
}

export type DecodedPayload = { port: Port; payload: JsonObject };

/** Decodes a Data payload by port; a payload that fails to parse becomes port `other` with the reason. */
export function decodePayload(portnum: number, bytes: Uint8Array): DecodedPayload {
  const port = portFromPortnum(portnum);
  const decode = DECODERS[port];
  if (!decode) return { port: 'other', payload: otherPayload(portnum, bytes) };
  try {
    return { port, payload: decode(bytes) };
  } catch (err) {
    return {
      port: 'other',
      payload: otherPayload(portnum, bytes, `${port} payload does not parse: ${(err as Error).message}`),
    };
  }
}
