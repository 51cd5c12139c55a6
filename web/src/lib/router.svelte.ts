import { matchRoute, type Route } from './routes.js';

// History API router: same-origin link clicks become pushState, back/forward re-match. Query strings stay in the
// URL so filters are shareable; pages read them from `router.search`.

class Router {
  route = $state<Route>({ name: 'dashboard' });
  search = $state('');

  start(): () => void {
    this.sync();
    const onPop = () => this.sync();
    const onClick = (e: MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const a = (e.target as Element | null)?.closest?.('a');
      const href = a?.getAttribute('href');
      if (!a || !href || a.getAttribute('target') || a.hasAttribute('download') || a.getAttribute('rel') === 'external')
        return;
      const url = new URL(href, window.location.href);
      if (url.origin !== window.location.origin || url.pathname.startsWith('/api/')) return;
      e.preventDefault();
      this.go(url.pathname + url.search + url.hash);
    };
    window.addEventListener('popstate', onPop);
    document.addEventListener('click', onClick);
    return () => {
      window.removeEventListener('popstate', onPop);
      document.removeEventListener('click', onClick);
    };
  }

  go(href: string, replace = false): void {
    if (replace) history.replaceState(null, '', href);
    else history.pushState(null, '', href);
    this.sync();
    if (!replace) window.scrollTo?.(0, 0);
  }

  /** Updates query parameters in place (filters), without a history entry per keystroke. */
  setQuery(params: Record<string, string | number | boolean | null | undefined>): void {
    const url = new URL(window.location.href);
    for (const [k, v] of Object.entries(params)) {
      if (v === null || v === undefined || v === '' || v === false) url.searchParams.delete(k);
      else url.searchParams.set(k, String(v));
    }
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    this.search = url.search;
  }

  private sync(): void {
    this.route = matchRoute(window.location.pathname);
    this.search = window.location.search;
  }
}

export const router = new Router();

export function queryParam(search: string, key: string): string | null {
  return new URLSearchParams(search).get(key);
}
