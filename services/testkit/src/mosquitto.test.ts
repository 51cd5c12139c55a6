import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MosquittoServer, startMosquitto } from './mosquitto.js';

const execFileP = promisify(execFile);

describe('startMosquitto (real broker)', () => {
  let broker: MosquittoServer;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  it('delivers what mosquitto_pub publishes, and comes back on the same port after kill -9', async () => {
    const sub = (n: number) =>
      execFileP('mosquitto_sub', [
        '-h',
        '127.0.0.1',
        '-p',
        String(broker.port),
        '-t',
        'msh/#',
        '-C',
        String(n),
        '-W',
        '20',
      ]);
    let got = sub(1);
    // mosquitto_sub subscribes asynchronously: publish (retained) so the order does not matter.
    await broker.pub('msh/test', { text: 'hello' });
    await execFileP('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'msh/r', '-r', '-m', 'kept']);
    expect((await got).stdout.trim()).toMatch(/hello|kept/);
    const pid = broker.pid;
    await broker.kill();
    await broker.restart();
    expect(broker.pid).not.toBe(pid);
    got = sub(1);
    await execFileP('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(broker.port),
      '-t',
      'msh/r',
      '-r',
      '-m',
      'again',
    ]);
    expect((await got).stdout.trim()).toBe('again');
  }, 60_000);
});
