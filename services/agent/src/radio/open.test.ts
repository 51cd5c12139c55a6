import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';
import { openRadio, pickSerialPort, RadioOpenError } from './open.js';

describe('serial port auto-detection', () => {
  it('picks the port with a known Meshtastic USB vendor id', () => {
    expect(
      pickSerialPort([
        { path: '/dev/ttyS0' },
        { path: '/dev/ttyUSB0', vendorId: '0557' },
        { path: '/dev/ttyACM0', vendorId: '239A' },
      ]),
    ).toBe('/dev/ttyACM0');
  });
  it('falls back to the only USB candidate', () => {
    expect(pickSerialPort([{ path: '/dev/ttyS0' }, { path: '/dev/ttyUSB3', vendorId: '0557' }])).toBe('/dev/ttyUSB3');
  });
  it('refuses to guess between several radios or among no ports', () => {
    expect(() =>
      pickSerialPort([
        { path: '/dev/a', vendorId: '303a' },
        { path: '/dev/b', vendorId: '10c4' },
      ]),
    ).toThrow(/several serial ports.*device_path/);
    expect(() => pickSerialPort([])).toThrow(RadioOpenError);
    expect(() => pickSerialPort([{ path: '/dev/ttyS0' }, { path: '/dev/ttyS1' }])).toThrow(/cannot tell which/);
  });
});

describe('opening the radio', () => {
  it('reports a refused TCP connection and a missing serial device as RadioOpenError, without crashing', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    await expect(openRadio({ kind: 'tcp', host: '127.0.0.1', port })).rejects.toThrow(
      /cannot connect to the radio at 127\.0\.0\.1:\d+: .*ECONNREFUSED/,
    );
    await expect(openRadio({ kind: 'serial', path: '/dev/mmm-no-such-tty', baudRate: 115200 })).rejects.toThrow(
      /cannot open serial port \/dev\/mmm-no-such-tty/,
    );
  });
});

describe('reconnect backoff', () => {
  it('doubles from the minimum, caps at the maximum, and jitters between half and full', () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, 500, 30_000, () => 1))).toEqual([500, 1000, 2000, 4000, 30_000]);
    expect(backoffDelay(3, 500, 30_000, () => 0)).toBe(2000);
  });
});
