import { AGENT_COLOR, HOP_COLORS, LOW_BATTERY_COLOR, LOW_BATTERY_PERCENT } from '../lib/colors.js';

export const LEGEND: readonly { color: string; label: string }[] = [
  ...HOP_COLORS.map((color, i) => ({
    color,
    label: i === HOP_COLORS.length - 1 ? `${i}+ hops` : `${i} hop${i === 1 ? '' : 's'}`,
  })),
  { color: LOW_BATTERY_COLOR, label: `battery < ${LOW_BATTERY_PERCENT} %` },
  { color: AGENT_COLOR, label: 'agent' },
];

export const SNR_LEGEND: readonly { color: string; label: string }[] = [
  { color: '#2E7D32', label: '≥ 5 dB' },
  { color: '#8BC34A', label: '0…5 dB' },
  { color: '#FF9800', label: '−7…0 dB' },
  { color: '#F57C00', label: '−13…−7 dB' },
  { color: '#f44336', label: '< −13 dB' },
];
