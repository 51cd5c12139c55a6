import { fmtAgo, fmtBattery, fmtCoord, fmtNum, fmtTime, nodeLabel } from '../lib/format.js';
import { nodeHref } from '../lib/routes.js';
import type { AgentRow, NodeRow } from '../lib/types.js';

// Popup and tooltip content as DOM nodes filled with textContent: names come from radios, and a name like
// `<img src=x onerror=alert(1)>` must stay text. Never build these from HTML strings.

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function row(parent: HTMLElement, label: string, value: string): void {
  const r = el('div', undefined, 'popup-row');
  r.append(el('span', `${label}: `, 'popup-label'), el('span', value));
  parent.append(r);
}

export function nodePopup(n: NodeRow, agentNames: ReadonlyMap<string, string> = new Map()): HTMLElement {
  const root = el('div', undefined, 'mmm-popup');
  root.dataset.nodeId = n.id;
  const title = el('a', nodeLabel(n), 'popup-title');
  title.href = nodeHref(n.id);
  root.append(title, el('div', n.id, 'popup-id'));
  row(root, 'Hardware', n.hwModel ?? '—');
  row(root, 'Role', n.role);
  row(root, 'Last heard', n.lastHeard === null ? '—' : `${fmtAgo(n.lastHeard)} (${fmtTime(n.lastHeard)})`);
  row(root, 'Battery', fmtBattery(n.battery));
  row(root, 'Voltage', fmtNum(n.voltage, 2, ' V'));
  row(root, 'Hops', fmtNum(n.hops));
  row(root, 'Position', fmtCoord(n.lat, n.lon, 5));
  row(root, 'RSSI', fmtNum(n.rssi, 0, ' dBm'));
  row(root, 'SNR', fmtNum(n.snr, 2, ' dB'));
  if (n.agents.length > 0) row(root, 'Heard by', n.agents.map((a) => agentNames.get(a) ?? a).join(', '));
  if (n.routes.length > 0) {
    root.append(el('div', 'Network routes', 'popup-section'));
    for (const r of n.routes) {
      const line = `${agentNames.get(r.agent) ?? r.agent}: ${r.path.length > 0 ? r.path.join(' → ') : `${fmtNum(r.hops)} hops`}`;
      const d = el('div', line, 'popup-route');
      if (r.at !== null) d.title = fmtTime(r.at);
      root.append(d);
    }
  }
  const more = el('a', 'Node details →', 'popup-more');
  more.href = nodeHref(n.id);
  root.append(more);
  return root;
}

export function agentPopup(a: AgentRow): HTMLElement {
  const root = el('div', undefined, 'mmm-popup');
  root.append(el('div', `Agent ${a.id}`, 'popup-title'));
  row(root, 'Location', a.name ?? '—');
  row(root, 'Site', a.site ?? '—');
  row(root, 'Coordinates', fmtCoord(a.lat, a.lon));
  row(root, 'Last seen', fmtAgo(a.lastSeen));
  row(root, 'Status', a.active ? 'Active' : 'Inactive');
  row(root, 'Radio', a.radioState ?? '—');
  row(root, 'Packets', fmtNum(a.packets));
  return root;
}

export function textTooltip(text: string): HTMLElement {
  return el('span', text);
}
