import { nodeColor } from '../lib/colors.js';
import { nodeLabel } from '../lib/format.js';
import type { NodeRow } from '../lib/types.js';
import L from './cluster.js';
import { nodePopup, textTooltip } from './popup.js';

// Node markers: one canvas circle per node with a position, clustered (chunked loading keeps 10k responsive).
// Live updates move or restyle single markers; an open popup is rebuilt so it shows the new values.

export interface NodeLayerOptions {
  readonly renderer: L.Renderer;
  readonly cluster: boolean;
  readonly agentNames: () => ReadonlyMap<string, string>;
}

export class NodeLayer {
  readonly group: L.FeatureGroup;
  private readonly markers = new Map<string, L.CircleMarker>();
  private readonly rows = new Map<string, NodeRow>();
  private openId: string | null = null;

  constructor(private readonly opts: NodeLayerOptions) {
    this.group = opts.cluster
      ? L.markerClusterGroup({
          chunkedLoading: true,
          chunkInterval: 100,
          showCoverageOnHover: false,
          maxClusterRadius: 40,
          disableClusteringAtZoom: 15,
          spiderfyOnMaxZoom: true,
        })
      : L.featureGroup();
  }

  get size(): number {
    return this.markers.size;
  }

  latLngOf(id: string): L.LatLng | null {
    return this.markers.get(id)?.getLatLng() ?? null;
  }

  /** Replaces every marker (first load, filter change, snapshot). */
  reset(nodes: readonly NodeRow[]): void {
    this.group.clearLayers();
    this.markers.clear();
    this.rows.clear();
    const add: L.Layer[] = [];
    for (const n of nodes) {
      const m = this.create(n);
      if (m) add.push(m);
    }
    if (this.group instanceof L.MarkerClusterGroup) this.group.addLayers(add);
    else for (const m of add) this.group.addLayer(m);
  }

  /** Applies changed rows; `visible` false removes the marker. */
  update(n: NodeRow, visible: boolean): void {
    const m = this.markers.get(n.id);
    if (!visible || n.lat === null || n.lon === null) {
      if (m) {
        this.group.removeLayer(m);
        this.markers.delete(n.id);
        this.rows.delete(n.id);
      }
      return;
    }
    if (!m) {
      const created = this.create(n);
      if (created) this.group.addLayer(created);
      return;
    }
    this.rows.set(n.id, n);
    const prev = m.getLatLng();
    if (prev.lat !== n.lat || prev.lng !== n.lon) {
      // markercluster re-buckets a marker only when it is re-added
      this.group.removeLayer(m);
      m.setLatLng([n.lat, n.lon]);
      this.group.addLayer(m);
    }
    m.setStyle({ fillColor: nodeColor(n.hops, n.battery, n.active !== false) });
    m.setTooltipContent(textTooltip(nodeLabel(n)));
    // the popup's content is a function of the current row: update() re-runs it
    if (this.openId === n.id && m.isPopupOpen()) m.getPopup()?.update();
  }

  /** Opens a node's popup (zooming into its cluster first). */
  focus(id: string): boolean {
    const m = this.markers.get(id);
    if (!m) return false;
    const open = () => m.openPopup();
    if (this.group instanceof L.MarkerClusterGroup) this.group.zoomToShowLayer(m, open);
    else open();
    return true;
  }

  private create(n: NodeRow): L.CircleMarker | null {
    if (n.lat === null || n.lon === null) return null;
    const m = L.circleMarker([n.lat, n.lon], {
      renderer: this.opts.renderer,
      radius: 7,
      color: '#ffffff',
      weight: 1.5,
      fillColor: nodeColor(n.hops, n.battery, n.active !== false),
      fillOpacity: 0.95,
    });
    m.bindTooltip(textTooltip(nodeLabel(n)), { direction: 'top', offset: [0, -6] });
    m.bindPopup(() => nodePopup(this.rows.get(n.id) ?? n, this.opts.agentNames()), { maxWidth: 320 });
    m.on('popupopen', () => (this.openId = n.id));
    m.on('popupclose', () => {
      if (this.openId === n.id) this.openId = null;
    });
    this.markers.set(n.id, m);
    this.rows.set(n.id, n);
    return m;
  }
}
