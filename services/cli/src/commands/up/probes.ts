import { connect } from 'node:net';

export async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Leafnode connections of a nats-server, from its monitor port. */
export async function leafLinks(monitorPort: number): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${monitorPort}/leafz`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { leafnodes?: number };
    return body.leafnodes ?? 0;
  } catch {
    return 0;
  }
}

/** Resolves when something already listens on the port (another program, or a stack that is still up). */
export function portTaken(port: number): Promise<boolean> {
  return tcpOpen('127.0.0.1', port);
}
