import type { Port } from './subjects.js';

/** meshtastic.PortNum values we classify (from the Meshtastic protobufs). */
export const PORTNUM = {
  TEXT_MESSAGE_APP: 1,
  POSITION_APP: 3,
  NODEINFO_APP: 4,
  ROUTING_APP: 5,
  ADMIN_APP: 6,
  TEXT_MESSAGE_COMPRESSED_APP: 7,
  WAYPOINT_APP: 8,
  DETECTION_SENSOR_APP: 10,
  PAXCOUNTER_APP: 34,
  RANGE_TEST_APP: 66,
  TELEMETRY_APP: 67,
  STORE_FORWARD_APP: 65,
  TRACEROUTE_APP: 70,
  NEIGHBORINFO_APP: 71,
  MAP_REPORT_APP: 73,
} as const;

const BY_NUM: Readonly<Record<number, Port>> = {
  [PORTNUM.TEXT_MESSAGE_APP]: 'text',
  [PORTNUM.POSITION_APP]: 'position',
  [PORTNUM.NODEINFO_APP]: 'nodeinfo',
  [PORTNUM.ROUTING_APP]: 'routing',
  [PORTNUM.WAYPOINT_APP]: 'waypoint',
  [PORTNUM.PAXCOUNTER_APP]: 'paxcounter',
  [PORTNUM.RANGE_TEST_APP]: 'rangetest',
  [PORTNUM.TELEMETRY_APP]: 'telemetry',
  [PORTNUM.STORE_FORWARD_APP]: 'storeforward',
  [PORTNUM.TRACEROUTE_APP]: 'traceroute',
  [PORTNUM.NEIGHBORINFO_APP]: 'neighborinfo',
  [PORTNUM.MAP_REPORT_APP]: 'mapreport',
};

export function portFromPortnum(portnum: number): Port {
  return BY_NUM[portnum] ?? 'other';
}
