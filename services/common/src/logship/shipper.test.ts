import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, Server as TlsServer } from 'node:tls';
import { freePort, waitFor } from '@mmm/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { defineConfig } from '../config/spec.js';
import { createLogger } from '../log.js';
import { createLogShippers, JsonTcpShipper, jsonTcpLogPrefixed } from './index.js';

/** A real collector: every connection's lines, in order. */
class Collector {
  readonly connections: string[][] = [];
  private readonly sockets = new Set<Socket>();
  constructor(readonly server: Server) {
    const onConn = (s: Socket) => {
      const lines: string[] = [];
      this.connections.push(lines);
      this.sockets.add(s);
      let buf = '';
      s.on('data', (d) => {
        buf += d.toString();
        let i = buf.indexOf('\n');
        while (i >= 0) {
          lines.push(buf.slice(0, i));
          buf = buf.slice(i + 1);
          i = buf.indexOf('\n');
        }
      });
      s.on('error', () => {});
      s.on('close', () => this.sockets.delete(s));
    };
    server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', onConn);
  }
  static async listen(server: Server, port = 0): Promise<Collector> {
    const c = new Collector(server);
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    return c;
  }
  get port(): number {
    return (this.server.address() as { port: number }).port;
  }
  get records(): Record<string, unknown>[] {
    return this.connections.flat().map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  messages(): string[] {
    return this.records.filter((r) => 'message' in r).map((r) => r.message as string);
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const line = (msg: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ level: 30, time: '2026-01-02T03:04:05.678Z', pid: 42, name: 'ingest', msg, ...extra });

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});
function track<T extends { close(): Promise<void> }>(x: T): T {
  open.push(x);
  return x;
}

describe('JSON-TCP log shipping', () => {
  it("sends the original's record fields, the auth token first", async () => {
    const col = track(await Collector.listen(createTcpServer()));
    const ship = track(
      new JsonTcpShipper({
        host: '127.0.0.1',
        port: col.port,
        authToken: 's3cret',
        application: 'mmm',
        environment: 'test',
      }),
    );
    ship.write(line('hello', { trace_id: 'abc', site: 'north' }));
    ship.write(line('boom', { level: 50, err: { type: 'Error', message: 'bad', stack: 'Error: bad\n    at x' } }));
    await waitFor('two records', () => col.connections[0]?.length === 3);
    expect(JSON.parse(col.connections[0]![0]!)).toEqual({ auth_token: 's3cret' });
    const [hello, boom] = col.records.slice(1);
    expect(hello).toMatchObject({
      timestamp: 1767323045.678,
      iso_timestamp: '2026-01-02T03:04:05Z',
      level: 'INFO',
      logger: 'ingest',
      message: 'hello',
      application: 'mmm',
      environment: 'test',
      process: 42,
      thread_name: 'main',
      trace_id: 'abc',
      site: 'north',
    });
    expect(typeof hello!.host).toBe('string');
    expect(boom).toMatchObject({ level: 'ERROR', message: 'boom', exception: 'Error: bad\n    at x' });
  });

  it('never blocks while the collector is down, keeps the newest lines, and delivers them when it comes up', async () => {
    const port = await freePort();
    const problems: string[] = [];
    const ship = track(
      new JsonTcpShipper({
        host: '127.0.0.1',
        port,
        authToken: 't',
        bufferLines: 100,
        onProblem: (m) => problems.push(m),
      }),
    );
    // write() only queues: 5000 lines go by with the collector down (the original retried each line on the socket,
    // blocking), and the bound holds.
    for (let i = 0; i < 5000; i++) expect(ship.write(line(`m${i}`))).toBe(true);
    expect(ship.stats).toMatchObject({ connected: false, dropped: 4900, buffered: 100 });
    await waitFor('a connect failure reported', () => problems.length > 0);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('ECONNREFUSED');

    const col = track(await Collector.listen(createTcpServer(), port));
    await waitFor('backlog delivered', () => col.messages().length === 100, 20_000);
    expect(col.messages()[0]).toBe('m4900');
    expect(col.messages().at(-1)).toBe('m4999');
    expect(JSON.parse(col.connections[0]![0]!)).toEqual({ auth_token: 't' });
  });

  it('reconnects after the collector goes away and sends the token again', async () => {
    const port = await freePort();
    let col = await Collector.listen(createTcpServer(), port);
    const ship = track(new JsonTcpShipper({ host: '127.0.0.1', port, authToken: 'again' }));
    ship.write(line('before'));
    await waitFor('first line', () => col.messages().includes('before'));
    await col.close();
    await waitFor('disconnect noticed', () => !ship.stats.connected);
    ship.write(line('during'));
    col = track(await Collector.listen(createTcpServer(), port));
    ship.write(line('after'));
    await waitFor('lines after reconnect', () => col.messages().includes('after'), 20_000);
    expect(col.messages()).toEqual(['during', 'after']);
    expect(JSON.parse(col.connections[0]![0]!)).toEqual({ auth_token: 'again' });
    expect(ship.stats.connects).toBe(2);
  });

  describe('over TLS', () => {
    let dir: string;
    let key: Buffer;
    let cert: Buffer;
    const makeCert = () => {
      dir = mkdtempSync(join(tmpdir(), 'mmm-logship-tls-'));
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=collector.test',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      key = readFileSync(join(dir, 'key.pem'));
      cert = readFileSync(join(dir, 'cert.pem'));
      rmSync(dir, { recursive: true, force: true });
    };

    it('ships to a self-signed collector with verify_ssl=false, and refuses it with verify_ssl=true', async () => {
      makeCert();
      const col = track(await Collector.listen(createTlsServer({ key, cert })));
      const problems: string[] = [];
      const strict = track(
        new JsonTcpShipper({
          host: '127.0.0.1',
          port: col.port,
          useTls: true,
          verifySsl: true,
          onProblem: (m) => problems.push(m),
        }),
      );
      strict.write(line('must not arrive'));
      await waitFor('certificate refused', () => problems.length > 0);
      expect(problems[0]).toMatch(/self[- ]signed/i);

      const lax = track(
        new JsonTcpShipper({ host: '127.0.0.1', port: col.port, useTls: true, verifySsl: false, authToken: 'tls' }),
      );
      lax.write(line('over tls'));
      await waitFor('tls record', () => col.messages().includes('over tls'));
      expect(col.connections.flat().map((l) => JSON.parse(l))).toEqual([
        { auth_token: 'tls' },
        expect.objectContaining({ message: 'over tls' }),
      ]);
      expect(strict.stats.sent).toBe(0);
    });
  });

  it('works as an extra stream of createLogger, configured from [json_tcp_log_*] sections', async () => {
    const col = track(await Collector.listen(createTcpServer()));
    const spec = defineConfig({ sections: {}, prefixed: { ...jsonTcpLogPrefixed } });
    const cfg = parseConfig(
      spec,
      `[json_tcp_log_primary]\nhost = 127.0.0.1\nport = ${col.port}\napplication = meshy\nenvironment = lab\n`,
      'x.ini',
      { env: {} },
    );
    expect(() => parseConfig(spec, '[json_tcp_log_x]\nhost = h\nbogus = 1\n', 'x.ini', { env: {} })).toThrow(/bogus/);
    // The loader keys prefixed groups without the trailing '_' (ConfigValue's type still says `json_tcp_log_`).
    const shippers = createLogShippers(
      (cfg as unknown as { json_tcp_log: Parameters<typeof createLogShippers>[0] }).json_tcp_log,
    );
    for (const s of shippers) track(s);
    const log = createLogger({ name: 'api', level: 'info', extra: shippers });
    log.child({ module: 'http' }).error({ err: new Error('kaput') }, 'request failed');
    await waitFor('record from pino', () => col.records.length === 1);
    expect(col.records[0]).toMatchObject({
      level: 'ERROR',
      logger: 'api',
      module: 'http',
      message: 'request failed',
      application: 'meshy',
      environment: 'lab',
      process: process.pid,
    });
    expect(col.records[0]!.exception).toMatch(/^Error: kaput\n/);
  });

  it('ships a line that is not JSON as a message instead of losing it', async () => {
    const col = track(await Collector.listen(createTcpServer()));
    const ship = track(new JsonTcpShipper({ host: '127.0.0.1', port: col.port }));
    ship.write('plain text\n');
    await waitFor('plain record', () => col.records.length === 1);
    expect(col.records[0]).toMatchObject({ message: 'plain text', level: 'INFO' });
  });
});
