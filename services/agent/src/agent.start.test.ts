import { createServer } from 'node:net';
import { type NatsServer, startNatsServer, waitFor } from '@mmm/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from './agent.js';
import { agentIni, quietLog, settingsFrom } from './testing/test-stack.js';

/** The agent's connections as the server sees them (its monitor's /connz). */
async function agentConnections(server: NatsServer, agent: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${server.monitorPort}/connz`);
  const body = (await res.json()) as { connections?: { name?: string }[] };
  return (body.connections ?? []).filter((c) => c.name === `mmm-agent-${agent}`).length;
}

/** A TCP port nothing listens on: the radio session keeps retrying it in the background. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('startAgent', () => {
  let server: NatsServer;
  let admin: NatsConnection;
  let radioPort: number;
  beforeAll(async () => {
    server = await startNatsServer({ name: 'agent-start' });
    admin = await connect({ servers: server.url });
    radioPort = await closedPort();
  });
  afterAll(async () => {
    await admin?.close();
    await server?.dispose();
  });

  const settings = (agent: string, site: string) =>
    settingsFrom(agentIni({ leafUrl: server.url, simPort: radioPort, agent, site }));

  it('holds one connection while running, and none once stopped', async () => {
    const running = await startAgent(settings('a-ok', 'okay'), { log: quietLog() });
    try {
      expect(await agentConnections(server, 'a-ok')).toBe(1);
      expect(running.counters).toMatchObject({ receptions: 0, decodeErrors: 0, framesRead: 0 });
    } finally {
      await running.stop();
    }
    await waitFor('the connection to close', async () => (await agentConnections(server, 'a-ok')) === 0);
  });

  it('closes its connection when start-up fails after connecting (the site stream cannot be created)', async () => {
    // Another stream already captures the site's subjects: creating MESH_<site> fails once the agent is connected.
    const jsm = await admin.jetstreamManager();
    await jsm.streams.add({ name: 'SQUATTER', subjects: ['mesh.v1.taken.>'] });
    const err = await startAgent(settings('a-fail', 'taken'), { log: quietLog() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/overlap/i);
    await waitFor('the connection to close', async () => (await agentConnections(server, 'a-fail')) === 0, 5000);
    // Still none a moment later: nothing reconnects behind the failed start.
    await new Promise((r) => setTimeout(r, 500));
    expect(await agentConnections(server, 'a-fail')).toBe(0);
  });
});
