import { describe, expect, it } from 'vitest';
import { payloadView } from './payload.js';

describe('payload view per type', () => {
  it('shows text as text', () => {
    expect(payloadView('text', 'hello mesh')).toEqual({ fields: [], text: 'hello mesh' });
  });

  it('shows positions from degrees or integer fields', () => {
    const v = payloadView('position', { latitude: 52.52, longitude: 13.405, altitude: 40, time: 0 });
    expect(v.fields.map((f) => f.value)).toEqual(['52.52000', '13.40500', '40 m', '—']);
    const w = payloadView('position', { latitudeI: 525200000, longitudeI: 134050000 });
    expect(w.fields[0]?.value).toBe('52.52000');
  });

  it('shows every telemetry field, zeros kept', () => {
    const v = payloadView('telemetry', {
      device_metrics: { battery_level: 0, voltage: 3.71, channel_utilization: 0, air_util_tx: 0.5 },
    });
    expect(v.fields).toEqual([
      { label: 'Battery Level', value: '0 %' },
      { label: 'Voltage', value: '3.71 V' },
      { label: 'Channel Utilization', value: '0.0 %' },
      { label: 'Air Util Tx', value: '0.5 %' },
    ]);
    const env = payloadView('telemetry', {
      environment_metrics: { temperature: -2.5, relative_humidity: 0, lux: 120 },
    });
    expect(env.fields.map((f) => f.value)).toEqual(['-2.5 °C', '0 %', '120']);
  });

  it('shows user info with every role name', () => {
    const v = payloadView('nodeinfo', {
      id: '!deadbeef',
      long_name: 'Bob',
      short_name: 'B',
      hw_model: 'TBEAM',
      role: 11,
      macaddr: 'aa:bb',
    });
    expect(v.fields.find((f) => f.label === 'Role')?.value).toBe('ROUTER_LATE');
  });

  it('falls back to JSON for unknown payloads', () => {
    const v = payloadView('other', { portnum: 256, bytes: 'AAE=' });
    expect(v.text).toContain('"portnum": 256');
    expect(payloadView('other', null)).toEqual({ fields: [], text: null });
  });
});
