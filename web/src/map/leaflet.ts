import * as Leaflet from 'leaflet';
import 'leaflet/dist/leaflet.css';

// leaflet.markercluster is a UMD script that extends the global `L`; it must see Leaflet there before it runs,
// so this module (imported first) publishes it.
const L = ((Leaflet as unknown as { default?: typeof Leaflet }).default ?? Leaflet) as typeof Leaflet;
(globalThis as unknown as { L: typeof Leaflet }).L = L;

export default L;
