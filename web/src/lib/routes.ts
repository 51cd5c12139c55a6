// The app's route table. Paths match the API's SPA fallback (docs/api.md): /, /agents, /packets, /nodes,
// /nodes/<id>, /map, /topology, /alerts.

export type Route =
  | { readonly name: 'dashboard' }
  | { readonly name: 'agents' }
  | { readonly name: 'packets' }
  | { readonly name: 'nodes' }
  | { readonly name: 'node'; readonly id: string }
  | { readonly name: 'map' }
  | { readonly name: 'topology' }
  | { readonly name: 'alerts' }
  | { readonly name: 'notfound'; readonly path: string };

export function matchRoute(pathname: string): Route {
  const p = pathname.replace(/\/+$/, '') || '/';
  switch (p) {
    case '/':
      return { name: 'dashboard' };
    case '/agents':
      return { name: 'agents' };
    case '/packets':
      return { name: 'packets' };
    case '/nodes':
      return { name: 'nodes' };
    case '/map':
      return { name: 'map' };
    case '/topology':
      return { name: 'topology' };
    case '/alerts':
      return { name: 'alerts' };
  }
  const m = /^\/nodes\/([^/]+)$/.exec(p);
  if (m) {
    try {
      return { name: 'node', id: decodeURIComponent(m[1]!) };
    } catch {
      return { name: 'notfound', path: p };
    }
  }
  return { name: 'notfound', path: p };
}

export function nodeHref(id: string): string {
  return `/nodes/${encodeURIComponent(id)}`;
}

export const NAV: readonly { readonly href: string; readonly label: string; readonly route: Route['name'] }[] = [
  { href: '/', label: 'Dashboard', route: 'dashboard' },
  { href: '/agents', label: 'Agents', route: 'agents' },
  { href: '/packets', label: 'Packets', route: 'packets' },
  { href: '/nodes', label: 'Nodes', route: 'nodes' },
  { href: '/map', label: 'Map', route: 'map' },
  { href: '/topology', label: 'Topology', route: 'topology' },
  { href: '/alerts', label: 'Alerts', route: 'alerts' },
];
