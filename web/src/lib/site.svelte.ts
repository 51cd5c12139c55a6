import { fetchMapConfig } from './api.js';
import { toMapConfig } from './normalize.js';
import type { MapConfig } from './types.js';

// Site-wide settings from /api/map/config (site name, map view, tile URL), fetched once per page load.

class Site {
  name = $state('MeshyMcMapface');
  config = $state.raw<MapConfig>(toMapConfig({}));
  loaded = $state(false);
  private pending: Promise<MapConfig> | null = null;

  load(): Promise<MapConfig> {
    this.pending ??= fetchMapConfig()
      .then((c) => {
        this.config = c;
        this.name = c.siteName;
        this.loaded = true;
        if (typeof document !== 'undefined') document.title = c.siteName;
        return c;
      })
      .catch(() => {
        this.loaded = true;
        return this.config;
      });
    return this.pending;
  }
}

export const site = new Site();
