import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { freePort } from './proc.js';

/** A loopback TCP relay whose link can be cut (listener closed, every connection reset) and healed on the same port. */
export interface TcpProxy {
  readonly port: number;
  readonly targetPort: number;
  get up(): boolean;
  /** Stops listening and resets every relayed connection: to the client the target became unreachable. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  heal(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a relay from a free loopback port to 127.0.0.1:targetPort (a network cut between two real processes). */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const srv = createServer((client) => {
        const upstream = tcpConnect(targetPort, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.once('close', () => sockets.delete(s));
          s.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream);
        upstream.pipe(client);
      });
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => {
        server = srv;
        resolve();
      });
    });
  const cut = async () => {
    const srv = server;
    server = undefined;
    for (const s of sockets) s.resetAndDestroy();
    sockets.clear();
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
  };
  await listen();
  return {
    port,
    targetPort,
    get up() {
      return server !== undefined;
    },
    cut,
    heal: async () => {
      if (!server) await listen();
    },
    close: cut,
  };
}
