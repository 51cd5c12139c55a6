import { fetchNodes } from './api.js';
import { live } from './live.svelte.js';
import type { NodeRow } from './types.js';

// Nodes for the nodes page and the map: the live feed's snapshot plus updates when it is connected; the REST
// list (/api/nodes/detailed) until the first snapshot arrives or when the live feed is unavailable.

class NodeSource {
  rest = $state.raw<NodeRow[]>([]);
  error = $state('');
  private loaded = false;

  ensure(): void {
    if (this.loaded) return;
    this.loaded = true;
    fetchNodes({ hours: 8760, limit: 10000 })
      .then((r) => {
        this.rest = r;
        this.error = '';
      })
      .catch((e: Error) => {
        this.error = e.message;
        this.loaded = false;
      });
  }

  /** Reactive on live.version; call from $derived. */
  list(): NodeRow[] {
    void live.version;
    if (live.snapshots > 0) return [...live.nodes.values()];
    return this.rest;
  }

  get(id: string): NodeRow | undefined {
    return live.nodes.get(id) ?? this.rest.find((n) => n.id === id);
  }
}

export const nodeSource = new NodeSource();
