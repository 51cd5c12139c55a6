// Read auth: when the API requires a read token, a user opens the app once with `?token=…`; it is kept in this
// browser (localStorage) and sent as a Bearer header (REST) or a WebSocket subprotocol (live-socket.ts), since a
// WebSocket cannot carry headers. Opening the app with a new `?token=` replaces it after a rotation.
const KEY = 'mmm-token';

export function captureToken(loc: Location = window.location): void {
  const url = new URL(loc.href);
  const t = url.searchParams.get('token');
  if (!t) return;
  try {
    localStorage.setItem(KEY, t);
  } catch {
    // storage disabled: the token works for this page only
  }
  url.searchParams.delete('token');
  history.replaceState(history.state, '', url.pathname + url.search + url.hash);
}

export function readToken(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}
