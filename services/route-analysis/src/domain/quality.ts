import type { Sample } from './types.js';

/** SNR at or below which a LoRa link is at the edge of demodulation (LongFast decodes down to about -20 dB). */
export const SNR_FLOOR_DB = -20;
/** SNR at or above which more signal adds nothing to link quality. */
export const SNR_CEILING_DB = 10;
/** Samples after which a link's SNR is trusted fully. */
export const CONFIDENT_SAMPLES = 5;
/** SNR score used when no sample reported an SNR (e.g. traceroute hops with SNR -128). */
export const UNKNOWN_SNR_SCORE = 0.5;

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * quality = snrScore x (0.5 + 0.5 x confidence), rounded to 3 decimals, where
 *   snrScore   = clamp((snr - SNR_FLOOR_DB) / (SNR_CEILING_DB - SNR_FLOOR_DB), 0, 1), snr = median ?? latest
 *                (UNKNOWN_SNR_SCORE when no SNR is known);
 *   confidence = min(1, samples / CONFIDENT_SAMPLES).
 * It depends on the measurements only (not on the clock), so a rebuild reproduces it exactly; staleness is handled
 * by ageing links out.
 */
export function linkQuality(snrMedian: number | null, snrLatest: number | null, samples: number): number {
  const snr = snrMedian ?? snrLatest;
  const snrScore =
    snr === null ? UNKNOWN_SNR_SCORE : Math.min(1, Math.max(0, (snr - SNR_FLOOR_DB) / (SNR_CEILING_DB - SNR_FLOOR_DB)));
  const confidence = Math.min(1, samples / CONFIDENT_SAMPLES);
  return Math.round(snrScore * (0.5 + 0.5 * confidence) * 1000) / 1000;
}

/** Latest known SNR and the median of known SNRs of samples sorted by time. */
export function snrStats(samples: readonly Sample[]): { latest: number | null; median: number | null } {
  let latest: number | null = null;
  for (let i = samples.length - 1; i >= 0; i--) {
    const s = samples[i]!.snr;
    if (s !== null) {
      latest = s;
      break;
    }
  }
  return { latest, median: median(samples.flatMap((s) => (s.snr === null ? [] : [s.snr]))) };
}
