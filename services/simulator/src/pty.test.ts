import { existsSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadStream } from 'node:tty';
import { waitFor } from '@mmm/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from './simulator.js';
import { RadioClient } from './test-radio-client.js';

let s: Simulator | undefined;

afterEach(async () => {
  await s?.stop();
});

/** Opens the PTY as a serial program would, and talks the stream protocol over it. */
function openSerial(path: string) {
  const fd = openSync(path, 'r+');
  const input = new ReadStream(fd);
  input.setRawMode(true);
  const client = new RadioClient((b) => writeSync(fd, b));
  input.on('data', (chunk: Buffer) => client.feed(chunk));
  return {
    client,
    close: () => {
      input.destroy(); // closes the fd
    },
  };
}

describe('serial PTY', () => {
  it('serves the config exchange and live packets over a socat PTY, and can be reopened', async () => {
    s = await startSimulator({ port: 0, nodes: 8, rate: 100, seed: 2 });
    const path = join(tmpdir(), `mmm-sim-test-${process.pid}.tty`);
    const pty = await s.startPty(path);
    expect(pty.path).toBe(path);
    expect(existsSync(path)).toBe(true);

    const first = openSerial(path);
    const seq = await first.client.wantConfig(0x5e71a1);
    expect(seq[0]!.payloadVariant).toMatchObject({ case: 'myInfo', value: { myNodeNum: s.myNodeNum } });
    expect(seq.at(-1)!.payloadVariant.value).toBe(0x5e71a1);
    await first.client.waitForPackets('live packets', (p) => p.length >= 10);
    expect(s.connections()).toBe(1);
    first.close();

    // A serial program may close and reopen the device; the link behind it stays up, as with a radio on USB.
    const second = openSerial(path);
    const again = await second.client.wantConfig(2);
    expect(again.at(-1)!.payloadVariant.value).toBe(2);
    expect(s.connections()).toBe(1);
    second.close();
    await pty.stop();
    expect(existsSync(path)).toBe(false);
    await waitFor('the bridge connection to close', () => s!.connections() === 0);
  });
});
