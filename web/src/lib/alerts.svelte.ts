import { ApiError, fetchAlerts } from './api.js';
import type { AlertRow } from './types.js';

// The alerts the navigation badge counts and the Alerts page lists: loaded from /api/alerts, then kept current by
// the live feed's "alert" messages (one per transition) and a slow refresh (acks and silences are not on the feed).

const REFRESH_MS = 30_000;

export class AlertStore {
  list = $state.raw<AlertRow[]>([]);
  error = $state<string | null>(null);
  firing = $derived(this.list.filter((a) => a.state === 'firing').length);
  private timer: ReturnType<typeof setInterval> | null = null;

  start(): void {
    if (this.timer) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async refresh(): Promise<void> {
    try {
      this.list = await fetchAlerts();
      this.error = null;
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : String(err);
    }
  }

  /** One transition from the live feed: replaces the alert of the same id, or adds it. */
  apply(a: AlertRow): void {
    const rest = this.list.filter((x) => x.id !== a.id);
    this.list = [a, ...rest].sort((x, y) => (x.state === y.state ? y.at - x.at : x.state === 'firing' ? -1 : 1));
  }

  forNode(nodeId: string): AlertRow[] {
    return this.list.filter((a) => a.node_id === nodeId);
  }
}

export const alerts = new AlertStore();
