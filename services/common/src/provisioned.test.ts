import { type NatsServer, startNatsServer } from '@mmm/testkit';
import { AckPolicy, connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from './log.js';
import { bindOrEnsureConsumer, bindOrEnsureStream, NotProvisionedError } from './provisioned.js';

// A user that may look up stream S and pull and ack its durable "d", nothing else: what a service gets from mmm creds.
const AUTH = `authorization {
  users: [
    { user: admin, password: admin-pass }
    { user: svc, password: svc-pass, permissions: {
        publish: { allow: ["$JS.API.INFO", "$JS.API.STREAM.INFO.S", "$JS.API.STREAM.INFO.MISSING",
                           "$JS.API.CONSUMER.INFO.S.*", "$JS.API.CONSUMER.MSG.NEXT.S.d", "$JS.ACK.S.d.>"] }
        subscribe: { allow: ["_INBOX_svc.>"] } } }
  ]
}`;

let server: NatsServer;
let admin: NatsConnection;
let svc: NatsConnection;
const warnings: string[] = [];
const log = createLogger({ name: 'provisioned-test', level: 'warn' });
log.warn = ((obj: unknown, msg?: string) => {
  warnings.push(msg ?? String(obj));
}) as typeof log.warn;

beforeAll(async () => {
  server = await startNatsServer({ name: 'provisioned', extraConfig: AUTH });
  admin = await connect({ servers: server.url, user: 'admin', pass: 'admin-pass' });
  svc = await connect({ servers: server.url, user: 'svc', pass: 'svc-pass', inboxPrefix: '_INBOX_svc' });
  await (await admin.jetstreamManager()).streams.add({ name: 'S', subjects: ['s.>'] });
});

afterAll(async () => {
  await svc?.close();
  await admin?.close();
  await server?.dispose();
});

describe('bind or ensure', () => {
  it('creates and updates freely where the user may (the unauthenticated, embedded setup)', async () => {
    const jsm = await admin.jetstreamManager();
    await bindOrEnsureStream(jsm, { name: 'A', subjects: ['a.>'] });
    const c = await bindOrEnsureConsumer(jsm, 'A', { durable_name: 'x', ack_policy: AckPolicy.Explicit });
    expect(c.name).toBe('x');
    const u = await bindOrEnsureConsumer(jsm, 'A', {
      durable_name: 'x',
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 7,
    });
    expect(u.config.max_ack_pending).toBe(7);
  });

  it('binds to what the admin provisioned, warning when its config differs, without sending a change', async () => {
    await (await admin.jetstreamManager()).consumers.add('S', {
      durable_name: 'd',
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 100,
    });
    const jsm = await svc.jetstreamManager();
    const same = await bindOrEnsureConsumer(jsm, 'S', { durable_name: 'd', ack_policy: AckPolicy.Explicit }, log);
    expect(same.name).toBe('d');
    expect(warnings).toEqual([]);
    const differs = await bindOrEnsureConsumer(
      jsm,
      'S',
      { durable_name: 'd', ack_policy: AckPolicy.Explicit, max_ack_pending: 5 },
      log,
    );
    expect(differs.config.max_ack_pending).toBe(100);
    expect(warnings.join('\n')).toMatch(/may not change it: using it as provisioned/);
    const stream = await bindOrEnsureStream(jsm, { name: 'S', subjects: ['s.>', 'more.>'] }, log);
    expect(stream.config.subjects).toEqual(['s.>']);
  });

  it('fails naming the provisioning command when what it needs is missing', async () => {
    const jsm = await svc.jetstreamManager();
    const missingStream = bindOrEnsureStream(jsm, { name: 'MISSING', subjects: ['m.>'] }, log);
    await expect(missingStream).rejects.toBeInstanceOf(NotProvisionedError);
    await expect(missingStream).rejects.toThrow(/stream MISSING does not exist .*mmm streams provision/);
    await expect(
      bindOrEnsureConsumer(jsm, 'S', { durable_name: 'nope', ack_policy: AckPolicy.Explicit }, log),
    ).rejects.toThrow(/consumer nope on stream S does not exist and this NATS user may not create it/);
  });
});
