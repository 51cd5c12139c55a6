import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { channelHash, create, encodeFrame, Mesh, toBinary, xcrypt } from '@mmm/meshtastic';
import { Command, type CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { keyringFromOptions, register } from './cli.js';
import { ChannelKeyring } from './keyring.js';
import { InputReadError, runDecode } from './run.js';
import { contractProblems, fixtureLines } from './test-support.js';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');

/** Runs the real `mmm decode` (from source, as a user would) with the given stdin. */
function mmmDecode(args: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['services/cli/bin/mmm.js', 'decode', ...args], {
      cwd: ROOT,
      env: { ...process.env, MMM_FROM_SOURCE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const jsonLines = (s: string) =>
  s
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('mmm decode (spawned)', () => {
  it('envelopes: 323 events and 14 error lines for the 337 captured lines, exit 0', async () => {
    const lines = fixtureLines('friendlydev_mqtt_serviceenvelopes.b64.txt');
    const r = await mmmDecode(['--site', 'lab', '--agent', 'mqtt-1'], `${lines.join('\n')}\n`);
    expect(r.code).toBe(0);
    const out = jsonLines(r.stdout);
    expect(out).toHaveLength(337);
    const errors = out.filter((o) => 'error' in o);
    expect(errors).toHaveLength(14);
    for (const e of errors) {
      expect(typeof e.error).toBe('string');
      expect(lines[(e.line as number) - 1]).toBeDefined();
      expect(Object.keys(e).sort()).toEqual(['error', 'line']);
    }
    const events = out.filter((o) => !('error' in o));
    expect(events).toHaveLength(323);
    for (const e of events) {
      expect(e).toMatchObject({ kind: 'reception', site: 'lab', agent: 'mqtt-1', source: 'mqtt' });
      expect(contractProblems(e)).toEqual([]);
    }
    expect(events.filter((e) => e.encryption === 'decrypted')).toHaveLength(255);
    expect(r.stderr).toContain('337 lines, 323 events, 14 errors');
  }, 60_000);

  it('MeshPackets as JSON lines, with garbage lines mixed in: carries on and numbers each error', async () => {
    const lines = fixtureLines('potato-mesh_mesh_udp_capture.jsonl');
    const bad = ['not base64 !!', '{"raw_b64": 5}', '{broken json', '////', 'AQ'];
    const input = [...bad, ...lines, ''].join('\n');
    const r = await mmmDecode(['--format', 'packet', '-q'], input);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = jsonLines(r.stdout);
    expect(out.slice(0, 5).map((o) => o.line)).toEqual([1, 2, 3, 4, 5]);
    expect(out.slice(0, 5).every((o) => typeof o.error === 'string')).toBe(true);
    const events = out.slice(5);
    expect(events).toHaveLength(32);
    expect(events.filter((e) => e.port === 'encrypted')).toHaveLength(11);
    expect(events.every((e) => e.source === 'replay' && e.site === 'decode' && e.agent === 'local')).toBe(true);
  }, 60_000);
});

describe('runDecode', () => {
  it('reports an unreadable input as InputReadError, after the lines it could read', async () => {
    const input = new Readable({ read() {} });
    const output = new PassThrough();
    const got: string[] = [];
    output.on('data', (d: Buffer) => got.push(d.toString()));
    const run = runDecode({ input, output, format: 'envelope', keys: new ChannelKeyring(), site: 's', agent: 'a' });
    input.push('////\n');
    setImmediate(() => input.destroy(new Error('EIO: i/o error')));
    await expect(run).rejects.toBeInstanceOf(InputReadError);
    expect(got.join('')).toContain('"line":1');
  });

  it('stops quietly when the output is closed (e.g. piped into head)', async () => {
    const input = Readable.from(Array.from({ length: 1000 }, () => 'AQ==\n'));
    const output = new Writable({
      write(_c, _e, cb) {
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const s = await runDecode({ input, output, format: 'envelope', keys: new ChannelKeyring(), site: 's', agent: 'a' });
    expect(s.outputClosed).toBe(true);
    expect(s.lines).toBeLessThan(1000);
  });

  it('FromRadio frames (bare or with their header) with a private channel key; other frames only counted', async () => {
    const key = Buffer.alloc(16, 0x5a);
    const data = toBinary(Mesh.DataSchema, create(Mesh.DataSchema, { portnum: 1, payload: Buffer.from('psst') }));
    const packet = create(Mesh.MeshPacketSchema, {
      from: 9,
      to: 0xffffffff,
      id: 10,
      channel: channelHash('Crew', key),
      rxSnr: 5.5,
      payloadVariant: { case: 'encrypted', value: xcrypt(key, 10, 9, data) },
    });
    const frames = [
      create(Mesh.FromRadioSchema, { payloadVariant: { case: 'myInfo', value: { myNodeNum: 9 } } }),
      create(Mesh.FromRadioSchema, { payloadVariant: { case: 'packet', value: packet } }),
    ].map((m, i) => {
      const bytes = toBinary(Mesh.FromRadioSchema, m);
      return Buffer.from(i === 1 ? encodeFrame(bytes) : bytes).toString('base64'); // a captured frame, header and all
    });
    const output = new PassThrough();
    let text = '';
    output.on('data', (d: Buffer) => (text += d.toString()));
    const keys = keyringFromOptions([`Crew=${key.toString('base64')}`]);
    const s = await runDecode({
      input: Readable.from([frames.join('\n')]),
      output,
      format: 'fromradio',
      keys,
      site: 's',
      agent: 'a',
    });
    expect(s).toMatchObject({ lines: 2, events: 1, errors: 0, skipped: { myInfo: 1 } });
    const out = jsonLines(text);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      port: 'text',
      source: 'radio',
      encryption: 'decrypted',
      channelName: 'Crew',
      payload: { text: 'psst' },
    });
  });
});

describe('mmm decode options', () => {
  const run = async (args: string[]): Promise<CommanderError> => {
    const program = new Command('mmm').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    register(program);
    try {
      await program.parseAsync(['decode', ...args], { from: 'user' });
    } catch (err) {
      return err as CommanderError;
    }
    throw new Error('expected a usage error');
  };
  it('a malformed --key, a bad key length or a site id that is not a subject token exit with code 2', async () => {
    for (const [args, message] of [
      [['--key', 'Crew'], '--key "Crew": expected NAME=BASE64'],
      [['--key', 'Crew=abc'], '--key "Crew=abc": channel key must be 0, 1, 16 or 32 bytes'],
      [['--site', 'a.b'], 'site id "a.b"'],
      [['--agent', 'x>'], 'agent id "x>"'],
    ] as const) {
      const err = await run([...args]);
      expect(err.exitCode, args.join(' ')).toBe(2);
      expect(err.message).toContain(message);
    }
    expect((await run(['--format', 'json'])).message).toContain('Allowed choices are envelope, packet, fromradio');
  });
});
