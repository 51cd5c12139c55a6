import { snrColor } from '../lib/colors.js';
import { fmtNum, fmtTime } from '../lib/format.js';
import type { LinkRow, TraceRow } from '../lib/types.js';
import L from './leaflet.js';
import { textTooltip } from './popup.js';

// Neighbour links and traceroute paths as polylines coloured by SNR. Positions come from the node markers; a
// segment whose ends are not on the map is skipped.

export type Locate = (id: string) => L.LatLngExpression | null;
export type Name = (id: string) => string;

export function linkLayer(links: Iterable<LinkRow>, locate: Locate, name: Name, renderer: L.Renderer): L.LayerGroup {
  const g = L.layerGroup();
  for (const l of links) {
    const a = locate(l.from);
    const b = locate(l.to);
    if (!a || !b) continue;
    const line = L.polyline([a, b], { renderer, color: snrColor(l.snr), weight: 3, opacity: 0.8 });
    const back = l.snrBack !== null ? `, back ${fmtNum(l.snrBack, 1, ' dB')}` : '';
    line.bindTooltip(
      textTooltip(
        `${name(l.from)} → ${name(l.to)}: SNR ${fmtNum(l.snr, 1, ' dB')}${back} (${l.evidence.join(', ') || 'link'})`,
      ),
      { sticky: true },
    );
    g.addLayer(line);
  }
  return g;
}

export function traceLayer(traces: Iterable<TraceRow>, locate: Locate, name: Name, renderer: L.Renderer): L.LayerGroup {
  const g = L.layerGroup();
  for (const t of traces) {
    if (!t.success) continue;
    const draw = (path: readonly string[], snr: readonly (number | null)[], dash: string | undefined) => {
      for (let i = 0; i + 1 < path.length; i++) {
        const a = locate(path[i]!);
        const b = locate(path[i + 1]!);
        if (!a || !b) continue;
        const seg = L.polyline([a, b], {
          renderer,
          color: snrColor(snr[i]),
          weight: 4,
          opacity: 0.85,
          dashArray: dash,
        });
        seg.bindTooltip(
          textTooltip(
            `traceroute ${name(t.from)} → ${name(t.to)} hop ${i + 1}: ${name(path[i]!)} → ${name(path[i + 1]!)}, SNR ${fmtNum(snr[i], 1, ' dB')} (${fmtTime(t.at)})`,
          ),
          { sticky: true },
        );
        g.addLayer(seg);
      }
    };
    draw(t.towards, t.towardsSnr, undefined);
    draw(t.back, t.backSnr, '6 6');
  }
  return g;
}
