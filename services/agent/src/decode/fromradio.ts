import { fromBinaryLenient, Mesh, rawField, toJson } from '@mmm/meshtastic';
import type { NodeDbEntry, Result } from '@mmm/schemas';
import { JSON_OPTIONS, type JsonObject, withDegrees } from './payload.js';

/** One FromRadio message, reduced to what the agent acts on. */
export type FromRadioItem =
  | { kind: 'packet'; packet: Mesh.MeshPacket; raw: Uint8Array /* MeshPacket protobuf bytes */ }
  | { kind: 'myInfo'; myNodeNum: number }
  | { kind: 'nodeInfo'; entry: NodeDbEntry }
  | { kind: 'metadata'; firmwareVersion?: string; hwModel?: number }
  | { kind: 'channel'; index: number; name: string; psk: Uint8Array; role: number }
  | { kind: 'config'; lora?: { region: number; modemPreset: number; hopLimit: number; usePreset: boolean } }
  | { kind: 'configComplete'; id: number }
  | { kind: 'other'; case: string };

const FROMRADIO_PACKET_FIELD = 2;

/** meshtastic.NodeInfo from the radio's node DB, in the contract's form (positions get degrees). */
export function nodeDbEntry(info: Mesh.NodeInfo): NodeDbEntry {
  const entry = toJson(Mesh.NodeInfoSchema, info, JSON_OPTIONS) as JsonObject;
  entry.num = info.num >>> 0;
  if (entry.position && typeof entry.position === 'object') withDegrees(entry.position as JsonObject);
  // Protobuf JSON writes NaN/Infinity floats as strings; the node DB contract wants numbers (or null for metrics).
  if (typeof entry.snr === 'string') delete entry.snr;
  const metrics = entry.deviceMetrics as JsonObject | undefined;
  for (const [k, v] of Object.entries(metrics ?? {})) if (typeof v === 'string') metrics![k] = null;
  return entry as NodeDbEntry;
}

function item(msg: Mesh.FromRadio, bytes: Uint8Array): Result<FromRadioItem> {
  const v = msg.payloadVariant;
  switch (v.case) {
    case 'packet':
      return {
        ok: true,
        value: { kind: 'packet', packet: v.value, raw: rawField(bytes, FROMRADIO_PACKET_FIELD) ?? new Uint8Array(0) },
      };
    case 'myInfo':
      return { ok: true, value: { kind: 'myInfo', myNodeNum: v.value.myNodeNum >>> 0 } };
    case 'nodeInfo':
      return { ok: true, value: { kind: 'nodeInfo', entry: nodeDbEntry(v.value) } };
    case 'metadata': {
      const m = v.value;
      return {
        ok: true,
        value: { kind: 'metadata', firmwareVersion: m.firmwareVersion || undefined, hwModel: m.hwModel },
      };
    }
    case 'channel': {
      const c = v.value;
      const s = c.settings;
      const value = {
        kind: 'channel',
        index: c.index,
        name: s?.name ?? '',
        psk: s?.psk ?? new Uint8Array(0),
        role: c.role,
      } as const;
      return { ok: true, value };
    }
    case 'config': {
      const c = v.value.payloadVariant;
      if (c.case !== 'lora') return { ok: true, value: { kind: 'config' } };
      const { region, modemPreset, hopLimit, usePreset } = c.value;
      return { ok: true, value: { kind: 'config', lora: { region, modemPreset, hopLimit, usePreset } } };
    }
    case 'configCompleteId':
      return { ok: true, value: { kind: 'configComplete', id: v.value >>> 0 } };
    case undefined:
      return { ok: false, error: 'FromRadio carries no payload variant' };
    default:
      return { ok: true, value: { kind: 'other', case: v.case } };
  }
}

/** Parses one FromRadio frame payload. Never throws. */
export function parseFromRadio(bytes: Uint8Array): Result<FromRadioItem> {
  let msg: Mesh.FromRadio;
  try {
    msg = fromBinaryLenient(Mesh.FromRadioSchema, bytes);
  } catch (err) {
    return { ok: false, error: `not a FromRadio message: ${(err as Error).message}` };
  }
  try {
    return item(msg, bytes);
  } catch (err) {
    return { ok: false, error: `FromRadio ${msg.payloadVariant.case} could not be read: ${(err as Error).message}` };
  }
}
