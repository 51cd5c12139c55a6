import { VERSION } from '@mmm/common';
import { type AgentStatus, SCHEMA_VERSION } from '@mmm/schemas';
import type { AgentSettings } from '../config/settings.js';
import type { RadioSession } from '../radio/session.js';
import type { RadioInfo } from './radio-info.js';

export interface StatusInputs {
  settings: AgentSettings;
  startedAt: number;
  session: RadioSession;
  radio: RadioInfo;
  inFlight: number;
  stream: { messages: number; bytes: number };
  hubConnected?: boolean;
  hubBacklog?: number;
  counters: Record<string, number>;
}

export function buildStatus(i: StatusInputs, at = Date.now()): AgentStatus {
  const s = i.session;
  const r = i.radio;
  const opt = <K extends string, V>(k: K, v: V | undefined) => (v === undefined ? {} : ({ [k]: v } as Record<K, V>));
  return {
    v: SCHEMA_VERSION,
    kind: 'status',
    site: i.settings.site,
    agent: i.settings.agent,
    at,
    startedAt: i.startedAt,
    version: VERSION,
    location: i.settings.location,
    radio: {
      state: s.state,
      transport: s.transport,
      address: s.address,
      since: s.since,
      lastFrameAt: s.lastFrameAt,
      reconnects: s.reconnects,
      paused: s.isPaused,
      ...opt('myNodeNum', r.myNodeNum),
      ...opt('firmwareVersion', r.firmwareVersion),
      ...opt('hwModel', r.hwModel),
      ...opt('region', r.region),
      ...opt('modemPreset', r.modemPreset),
    } as AgentStatus['radio'],
    buffer: {
      inFlight: i.inFlight,
      streamMessages: i.stream.messages,
      streamBytes: i.stream.bytes,
      ...opt('hubConnected', i.hubConnected),
      ...opt('hubBacklog', i.hubBacklog),
    },
    counters: Object.fromEntries(Object.entries(i.counters).map(([k, v]) => [k, Math.max(0, Math.floor(v))])),
  };
}
