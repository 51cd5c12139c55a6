// REST data a page shows: loaded on demand, refreshed on an interval and whenever the live feed delivers a fresh
// snapshot (reconnect = resync), with the latest request winning and errors kept as a message.

export class Resource<T> {
  value = $state.raw<T | null>(null);
  error = $state('');
  loading = $state(false);
  private ctl: AbortController | null = null;

  constructor(private readonly load: (signal: AbortSignal) => Promise<T>) {}

  async refresh(): Promise<void> {
    this.ctl?.abort();
    const ctl = new AbortController();
    this.ctl = ctl;
    this.loading = true;
    try {
      const v = await this.load(ctl.signal);
      if (ctl.signal.aborted) return;
      this.value = v;
      this.error = '';
    } catch (e) {
      if (ctl.signal.aborted) return;
      this.error = (e as Error).message;
    } finally {
      if (this.ctl === ctl) this.loading = false;
    }
  }

  /** Starts periodic refreshes; returns the cleanup for an $effect. */
  every(ms: number): () => void {
    void this.refresh();
    const t = setInterval(() => void this.refresh(), ms);
    return () => {
      clearInterval(t);
      this.ctl?.abort();
    };
  }
}
