/**
 * Channel names the firmware uses for a primary channel left unnamed: the modem preset's display name
 * (firmware DisplayFormatters::getModemPresetDisplayName). The channel hash, and so key matching, depends on it.
 */
export const PRESET_CHANNEL_NAMES: Readonly<Record<number, string>> = {
  0: 'LongFast',
  1: 'LongSlow',
  3: 'MediumSlow',
  4: 'MediumFast',
  5: 'ShortSlow',
  6: 'ShortFast',
  7: 'LongMod',
  8: 'ShortTurbo',
  9: 'LongTurbo',
};

/** The name an unnamed channel goes by on the air for a modem preset (Config.LoRaConfig.ModemPreset). */
export function presetChannelName(modemPreset: number): string {
  return PRESET_CHANNEL_NAMES[modemPreset] ?? 'Invalid';
}
