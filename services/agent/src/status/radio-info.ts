/** What the radio told us about itself at configure time. */
export interface RadioInfo {
  myNodeNum?: number;
  firmwareVersion?: string;
  hwModel?: number;
  region?: number;
  modemPreset?: number;
  hopLimit?: number;
  channels: { index: number; name: string; role: number }[];
}
