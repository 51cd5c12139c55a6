import { createConnection, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RadioTarget } from '../config/settings.js';

/** The radio link could not be opened (refused, no device, no candidate port). Retried with backoff. */
export class RadioOpenError extends Error {
  override readonly name = 'RadioOpenError';
}

export interface OpenedLink {
  readonly stream: Duplex;
  readonly transport: 'tcp' | 'serial';
  readonly address: string;
}

/** USB vendor ids of boards that run Meshtastic (Espressif, Adafruit/RAK nRF52, Seeed, RP2040, CP210x, CH34x). */
export const MESHTASTIC_USB_VIDS = ['303a', '239a', '2886', '2e8a', '10c4', '1a86', '0403'] as const;

export interface PortInfoLike {
  path: string;
  vendorId?: string;
}

/** Picks the radio among serial ports: a known vendor id, else the only candidate. */
export function pickSerialPort(ports: readonly PortInfoLike[]): string {
  const known = ports.filter(
    (p) => p.vendorId && (MESHTASTIC_USB_VIDS as readonly string[]).includes(p.vendorId.toLowerCase()),
  );
  if (known.length === 1) return known[0]!.path;
  if (known.length > 1) {
    throw new RadioOpenError(
      `several serial ports look like radios (${known.map((p) => p.path).join(', ')}); set [meshtastic] device_path`,
    );
  }
  const usb = ports.filter((p) => p.vendorId);
  if (usb.length === 1) return usb[0]!.path;
  if (ports.length === 0)
    throw new RadioOpenError('no serial ports found; connect the radio or set [meshtastic] tcp_host');
  throw new RadioOpenError(
    `cannot tell which serial port is the radio (${ports.map((p) => p.path).join(', ')}); set [meshtastic] device_path`,
  );
}

function openTcp(host: string, port: number, timeoutMs: number): Promise<OpenedLink> {
  return new Promise((resolve, reject) => {
    const sock: Socket = createConnection({ host, port });
    const fail = (err: Error) => {
      sock.destroy();
      reject(new RadioOpenError(`cannot connect to the radio at ${host}:${port}: ${err.message}`, { cause: err }));
    };
    const timer = setTimeout(() => fail(new Error('connect timed out')), timeoutMs);
    sock.once('error', fail);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.off('error', fail);
      sock.setNoDelay(true);
      sock.setKeepAlive(true, 10_000);
      resolve({ stream: sock, transport: 'tcp', address: `${host}:${port}` });
    });
  });
}

/**
 * serialport (its native binding and parsers, several MB resident) is loaded only by agents that read a serial radio,
 * so a TCP agent does not carry it.
 */
async function serialPortClass() {
  return (await import('serialport')).SerialPort;
}

// SerialPort is opened by hand: TransportNodeSerial.create crashes the process on an open error (environment notes).
async function openSerial(path: string, baudRate: number): Promise<OpenedLink> {
  const SerialPort = await serialPortClass();
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    port.open((err) => {
      if (err) reject(new RadioOpenError(`cannot open serial port ${path}: ${err.message}`, { cause: err }));
      else resolve({ stream: port, transport: 'serial', address: path });
    });
  });
}

export async function openRadio(target: RadioTarget, timeoutMs = 10_000): Promise<OpenedLink> {
  switch (target.kind) {
    case 'tcp':
      return openTcp(target.host, target.port, timeoutMs);
    case 'serial':
      return openSerial(target.path, target.baudRate);
    case 'auto': {
      let ports: PortInfoLike[];
      try {
        ports = await (await serialPortClass()).list();
      } catch (cause) {
        throw new RadioOpenError(`cannot list serial ports: ${(cause as Error).message}`, { cause });
      }
      return openSerial(pickSerialPort(ports), target.baudRate);
    }
  }
}
