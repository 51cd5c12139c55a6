import { nodeColor } from '../lib/colors.js';
import { nodeLabel } from '../lib/format.js';
import type { NodeRow } from '../lib/types.js';
import L from './cluster.js';
import { nodePopup, textTooltip } from './popup.js';

// Node markers: one canvas circle per node with a position, clustered (chunked loading keeps 10k responsive).
// Live updates move or restyle single markers. The popup the user wants open (clicked, or ?node=) survives full
// redraws and moves: markercluster closes a popup whenever it removes the marker.

const UNCLUSTERED_ZOOM = 15;

export interface NodeLayerOptions {
  readonly renderer: L.Renderer;
  readonly cluster: boolean;
  readonly agentNames: () => ReadonlyMap<string, string>;
  /** Called when a full redraw has placed every marker (chunked loading finished). */
  readonly onLoaded?: () => void;
}

export class NodeLayer {
  readonly group: L.FeatureGroup;
  private readonly markers = new Map<string, L.CircleMarker>();
  private readonly rows = new Map<string, NodeRow>();
  /** The node whose popup should be open, until the user closes it. */
  private wantOpen: string | null = null;
  /** Set while we remove markers ourselves, so their popupclose is not taken as the user's. */
  private quiet = false;
  private loading = false;
  private zoomOnOpen = false;
  /** Nodes with a firing alert: drawn with a thick red ring. */
  private alerting: ReadonlySet<string> = new Set();

  constructor(private readonly opts: NodeLayerOptions) {
    this.group = opts.cluster
      ? L.markerClusterGroup({
          chunkedLoading: true,
          chunkInterval: 200,
          chunkDelay: 0, // the default 50 ms pause between chunks is pure idle time; setTimeout(0) still yields to input
          showCoverageOnHover: false,
          maxClusterRadius: 40,
          disableClusteringAtZoom: UNCLUSTERED_ZOOM,
          spiderfyOnMaxZoom: true,
          chunkProgress: (done: number, total: number) => {
            if (done < total) return;
            this.loading = false;
            this.opts.onLoaded?.();
            this.openWanted();
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
    this.quiet = true;
    this.group.clearLayers();
    this.quiet = false;
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
    } else for (const m of add) this.group.addLayer(m);
    if (!this.loading) {
      this.opts.onLoaded?.();
      this.openWanted();
    }
  }

  /** Applies a changed row; `visible` false removes the marker. */
  update(n: NodeRow, visible: boolean): void {
    const m = this.markers.get(n.id);
    if (!visible || n.lat === null || n.lon === null) {
      if (m) {
        this.quiet = true;
        this.group.removeLayer(m);
        this.quiet = false;
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
      this.quiet = true;
      this.group.removeLayer(m);
      this.quiet = false;
      m.setLatLng([n.lat, n.lon]);
      this.group.addLayer(m);
      // the cluster layer only draws markers inside the view: follow the node whose popup is open
      const map = (this.group as unknown as { _map?: L.Map })._map;
      if (this.wantOpen === n.id && map && !map.getBounds().contains([n.lat, n.lon]))
        map.panTo([n.lat, n.lon], { animate: false });
    }
    m.setStyle({ fillColor: nodeColor(n.hops, n.battery, n.active !== false) });
    m.setTooltipContent(textTooltip(nodeLabel(n)));
    if (this.wantOpen !== n.id) return;
    // the popup's content is a function of the current row: update() re-runs it
    if (m.isPopupOpen()) m.getPopup()?.update();
    else this.openWanted();
  }

  /** Rings the markers of nodes with a firing alert (and un-rings those whose alerts resolved). */
  markAlerts(ids: ReadonlySet<string>): void {
    const before = this.alerting;
    this.alerting = ids;
    for (const id of new Set([...before, ...ids])) {
      if (before.has(id) === ids.has(id)) continue;
      this.markers.get(id)?.setStyle(this.ring(id));
    }
  }

  private ring(id: string): L.PathOptions {
    return this.alerting.has(id) ? { color: '#d62828', weight: 4 } : { color: '#ffffff', weight: 1.5 };
  }

  /** Zooms to a node and opens its popup, once its marker is on the map. */
  focus(id: string): boolean {
    if (!this.markers.has(id)) return false;
    this.wantOpen = id;
    this.zoomOnOpen = true;
    if (!this.loading) this.openWanted();
    return true;
  }

  private openWanted(): void {
    const id = this.wantOpen;
    const m = id ? this.markers.get(id) : undefined;
    const map = (this.group as unknown as { _map?: L.Map })._map;
    if (!m || !map) return;
    // markercluster's zoomToShowLayer waits for an `_icon` that circle markers never have, so: zoom past the
    // clustering level, then open the popup once the cluster layer has put the marker on the map.
    if (this.zoomOnOpen) map.setView(m.getLatLng(), Math.max(map.getZoom(), UNCLUSTERED_ZOOM), { animate: false });
    this.zoomOnOpen = false;
    let tries = 0;
    const open = () => {
      if (this.markers.get(id!) !== m || this.wantOpen !== id) return; // superseded by a redraw or a close
      if ((m as unknown as { _map?: L.Map })._map) m.openPopup();
      else if (tries++ < 120) requestAnimationFrame(open);
    };
    open();
  }

  private create(n: NodeRow): L.CircleMarker | null {
    if (n.lat === null || n.lon === null) return null;
    const m = L.circleMarker([n.lat, n.lon], {
      renderer: this.opts.renderer,
      radius: 7,
      ...this.ring(n.id),
      fillColor: nodeColor(n.hops, n.battery, n.active !== false),
      fillOpacity: 0.95,
    });
    m.bindTooltip(textTooltip(nodeLabel(n)), { direction: 'top', offset: [0, -6] });
    m.bindPopup(() => nodePopup(this.rows.get(n.id) ?? n, this.opts.agentNames()), { maxWidth: 320 });
    m.on('popupopen', () => {
      this.wantOpen = n.id;
    });
    m.on('popupclose', () => {
      if (
        !this.quiet &&
        this.wantOpen === n.id &&
        this.markers.get(n.id) === m &&
        (m as unknown as { _map?: L.Map })._map
      )
        this.wantOpen = null;
    });
    this.markers.set(n.id, m);
    this.rows.set(n.id, n);
    return m;
  }
}
