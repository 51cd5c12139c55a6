import type { FeatureCollection } from 'geojson';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import countriesUrl from 'world-atlas/countries-50m.json?url';
import L from './leaflet.js';

// The offline basemap: Natural Earth country polygons (world-atlas, 1:50m) shipped with the app as a separate
// static file, so the map works with no tile server and the JSON is not part of the JavaScript bundle.

let cached: Promise<FeatureCollection> | null = null;

export function loadCountries(): Promise<FeatureCollection> {
  cached ??= fetch(countriesUrl)
    .then((r) => {
      if (!r.ok) throw new Error(`basemap: HTTP ${r.status}`);
      return r.json() as Promise<Topology<{ countries: GeometryCollection }>>;
    })
    .then((topo) => feature(topo, topo.objects.countries) as FeatureCollection)
    .catch((e) => {
      cached = null;
      throw e;
    });
  return cached;
}

/**
 * The outline goes in a pane of its own between tiles (200) and overlays (400): in the overlay pane its filled
 * polygons would cover the canvas that the node markers are drawn on.
 */
export function addBasemap(map: L.Map, fc: FeatureCollection): L.GeoJSON {
  const pane = map.getPane('basemap') ?? map.createPane('basemap');
  pane.style.zIndex = '250';
  pane.style.pointerEvents = 'none';
  return basemapLayer(fc, L.svg({ pane: 'basemap', padding: 0.5 })).addTo(map);
}

function basemapLayer(fc: FeatureCollection, renderer: L.Renderer): L.GeoJSON {
  const css = getComputedStyle(document.documentElement);
  // Leaflet hands these options to each polygon it creates, so `renderer` applies although the type omits it.
  return L.geoJSON(fc, {
    renderer,
    pane: 'basemap',
    interactive: false,
    style: () => ({
      color: css.getPropertyValue('--map-border').trim() || '#9aa79a',
      weight: 0.7,
      fillColor: css.getPropertyValue('--map-land').trim() || '#dfe6d8',
      fillOpacity: 1,
    }),
  } as L.GeoJSONOptions);
}
