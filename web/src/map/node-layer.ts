import { nodeColor } from '../lib/colors.js';
import { nodeLabel } from '../lib/format.js';
import type { NodeRow } from '../lib/types.js';
import L from './cluster.js';
import { nodePopup, textTooltip } from './popup.js';

// Node markers: one canvas circle per node with a position, clustered (chunked loading keeps 10k responsive).
// Live updates move or restyle single markers; an open popup is rebuilt so it shows the new values.

const UNCLUSTERED_ZOOM = 15;

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
  private pendingFocus: string | null = null;
  private loading = false;
  private pendingZoom = true;

  constructor(private readonly opts: NodeLayerOptions) {
    this.group = opts.cluster
      ? L.markerClusterGroup({
          chunkedLoading: true,
          chunkInterval: 100,
          showCoverageOnHover: false,
          maxClusterRadius: 40,
          disableClusteringAtZoom: UNCLUSTERED_ZOOM,
          spiderfyOnMaxZoom: true,
          // a focus request waits until chunked loading has placed every marker in the cluster tree
          chunkProgress: (done: number, total: number) => {
            if (done < total) return;
            this.loading = false;
            this.runPendingFocus();
          },
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
    // a popup open before a full redraw (snapshot, filter change) is reopened on the new marker
    const reopen = this.openId;
    if (reopen && !this.pendingFocus) {
      this.pendingFocus = reopen;
      this.pendingZoom = false;
    }
    this.group.clearLayers();
    this.markers.clear();
    this.rows.clear();
    const add: L.Layer[] = [];
    for (const n of nodes) {
      const m = this.create(n);
      if (m) add.push(m);
    }
    if (this.group instanceof L.MarkerClusterGroup) {
      this.loading = add.length > 0;
      this.group.addLayers(add);
    }
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

  /** Opens a node's popup (zooming into its cluster first), once its marker is on the map. */
  focus(id: string): boolean {
    if (!this.markers.has(id)) return false;
    this.pendingFocus = id;
    this.pendingZoom = true;
    if (!this.loading) this.runPendingFocus();
    return true;
  }

  private runPendingFocus(): void {
    const id = this.pendingFocus;
    const m = id ? this.markers.get(id) : undefined;
    this.pendingFocus = null;
    const map = (this.group as unknown as { _map?: L.Map })._map;
    const zoom = this.pendingZoom;
    this.pendingZoom = true;
    if (!m || !map) return;
    // markercluster's zoomToShowLayer waits for an `_icon` that circle markers never have, so: zoom past the
    // clustering level, then open the popup once the cluster has put the marker on the map.
    if (zoom) map.setView(m.getLatLng(), Math.max(map.getZoom(), UNCLUSTERED_ZOOM), { animate: false });
    let tries = 0;
    const open = () => {
      if ((m as unknown as { _map?: L.Map })._map) m.openPopup();
      else if (tries++ < 60) requestAnimationFrame(open);
    };
    open();
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
