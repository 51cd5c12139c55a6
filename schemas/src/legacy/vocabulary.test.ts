import { describe, expect, it } from 'vitest';
import { PORTS } from '../subjects.js';
import {
  LEGACY_PACKET_TYPES,
  legacyTypeOfPort,
  macFromBase64,
  macToBase64,
  nodeRef,
  portOfLegacyType,
  portOfTypeName,
  snakeKeys,
  TYPE_NAMES,
  typeNameOfPort,
} from './vocabulary.js';

describe('the original wire vocabulary', () => {
  it("gives every port one of the original agent's type names, as it classified them", () => {
    for (const port of PORTS) expect(LEGACY_PACKET_TYPES).toContain(legacyTypeOfPort(port));
    expect(legacyTypeOfPort('rangetest')).toBe('text_message');
    expect(legacyTypeOfPort('waypoint')).toBe('other');
    expect(legacyTypeOfPort('nodeinfo')).toBe('user_info');
  });

  it('reads a legacy type back as a port; names the original never sent are other', () => {
    expect(portOfLegacyType('text_message')).toBe('text');
    expect(portOfLegacyType('user_info')).toBe('nodeinfo');
    expect(portOfLegacyType('error')).toBe('other');
    expect(portOfLegacyType('waypoint')).toBe('other');
    expect(portOfLegacyType(undefined)).toBe('other');
  });

  it("names ports in the REST API's type field and reads every such name back", () => {
    for (const port of PORTS) {
      expect(portOfTypeName(typeNameOfPort(port))).toBe(port);
      expect(TYPE_NAMES).toContain(typeNameOfPort(port));
    }
    expect(typeNameOfPort('waypoint')).toBe('waypoint');
    expect(portOfTypeName('TEXT_MESSAGE')).toBe('text');
    expect(portOfTypeName('route_discovery')).toBeUndefined();
  });

  it('turns a MAC between base64 and aa:bb:… both ways, and only a six-byte one', () => {
    const b64 = macToBase64('AA:BB:cc-dd:ee:ff')!;
    expect(b64).toBe('qrvM3e7/');
    expect(macFromBase64(b64)).toBe('aa:bb:cc:dd:ee:ff');
    expect(macToBase64(b64)).toBe(b64);
    expect(macFromBase64('qrvM')).toBeNull();
    expect(macFromBase64('not base64!')).toBeNull();
    expect(macFromBase64('')).toBeNull();
    expect(macToBase64('zz:zz')).toBeUndefined();
  });

  it('snake-cases keys at every depth and spells broadcast ^all', () => {
    expect(snakeKeys({ deviceMetrics: { batteryLevel: 0, nested: { airUtilTx: 1 } }, list: [{ aB: 1 }] })).toEqual({
      device_metrics: { battery_level: 0, nested: { air_util_tx: 1 } },
      list: [{ aB: 1 }],
    });
    expect(nodeRef(0xffffffff)).toBe('^all');
    expect(nodeRef(0xbeef)).toBe('!0000beef');
  });
});
