// Helpers for integration tests and the benchmark (excluded from the build by the test-* name).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensureStream } from '@mmm/common';
import {
  type AlertEvent,
  DUPLICATE_WINDOW_MS,
  type MeshEvent,
  msgIdOf,
  streams,
  subjectOf,
  subjects,
} from '@mmm/schemas';
import { type JetStreamClient, type JetStreamManager, StorageType } from 'nats';

export interface Received {
  at: number;
  key: string;
  notification: string;
  alert: AlertEvent;
}

/**
 * A real HTTP webhook receiver: records every generic-format request it answers with 200. `down()` closes the
 * listener (connections refused, as when the receiver's host is away); `up()` listens on the same port again.
 */
export class Receiver {
  readonly got: Received[] = [];
  private server: Server | undefined;
  port = 0;

  static async start(): Promise<Receiver> {
    const r = new Receiver();
    await r.up();
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { notification: string; alert: AlertEvent };
        this.got.push({
          at: Date.now(),
          key: String(req.headers['idempotency-key']),
          notification: body.notification,
          alert: body.alert,
        });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(this.port, '127.0.0.1', () => ok());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((ok) => s.close(() => ok()));
  }

  /** `<rule>:<node or agent>:<notification>` of every request, in arrival order. */
  lines(): string[] {
    return this.got.map((g) => `${g.alert.rule}:${g.alert.node_id ?? g.alert.agent_id}:${g.notification}`);
  }

  count(line: string): number {
    return this.lines().filter((l) => l === line).length;
  }
}

/** The hub stream as a single-machine install has it: capturing the sites' subjects itself. */
export function createHubStream(jsm: JetStreamManager, sites: readonly string[] = ['s1']) {
  return ensureStream(jsm, {
    name: streams.hub,
    subjects: sites.map((s) => subjects.siteAll(s)),
    storage: StorageType.File,
    duplicate_window: DUPLICATE_WINDOW_MS * 1_000_000,
  });
}

export async function publish(js: JetStreamClient, ...events: MeshEvent[]): Promise<void> {
  for (const ev of events) await js.publish(subjectOf(ev), JSON.stringify(ev), { msgID: msgIdOf(ev) });
}

export function configText(o: { url: string; hook: string; rules: string; extra?: string; opsPort?: number }): string {
  return `[nats]
url = ${o.url}
[alerts]
flush_interval = 50
sweep_interval = 200
checkpoint_interval = 300
${o.extra ?? ''}
[ops]
${o.opsPort !== undefined ? `port = ${o.opsPort}` : 'enabled = false'}
[webhook_test]
url = ${o.hook}
backoff_max = 1000
${o.rules}
`;
}
