import { create, fromBinary, Mesh, Portnums } from '@mmm/meshtastic';
import { waitFor } from '@mmm/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from './simulator.js';
import { RadioClient } from './test-radio-client.js';

const P = Portnums.PortNum;
let s: Simulator | undefined;
let c: (RadioClient & { close(): void }) | undefined;

afterEach(async () => {
  c?.close();
  await s?.stop();
});

function traceroute(client: RadioClient, to: number, id: number, wantAck = true): void {
  const data = create(Mesh.DataSchema, { portnum: P.TRACEROUTE_APP, payload: new Uint8Array(), wantResponse: true });
  client.send({
    case: 'packet',
    value: create(Mesh.MeshPacketSchema, {
      to,
      id,
      wantAck,
      hopLimit: 7,
      payloadVariant: { case: 'decoded', value: data },
    }),
  });
}

const replyTo = (client: RadioClient, id: number, portnum: number) =>
  client
    .packets()
    .find(
      (p) =>
        p.payloadVariant.case === 'decoded' &&
        p.payloadVariant.value.requestId === id &&
        p.payloadVariant.value.portnum === portnum,
    );

describe('traceroute', () => {
  it('answers with a RouteDiscovery consistent with links(), marked with the request id, and ACKs it', async () => {
    s = await startSimulator({ port: 0, nodes: 40, seed: 3, rate: 0, traceDelayMs: [50, 150], traceRateLimitMs: 0 });
    c = await RadioClient.tcp(s.port);
    await c.wantConfig(1);
    const far = s.nodes.reduce((a, b) => (b.hopsAway > a.hopsAway ? b : a));
    expect(far.hopsAway).toBeGreaterThanOrEqual(2);
    const t0 = Date.now();
    traceroute(c, far.num, 0x1001);
    await waitFor('the traceroute reply', () => replyTo(c!, 0x1001, P.TRACEROUTE_APP), 5_000, 10);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45); // not instantly: the reply crossed the mesh
    const reply = replyTo(c, 0x1001, P.TRACEROUTE_APP)!;
    expect(reply.from).toBe(far.num);
    expect(reply.to).toBe(s.myNodeNum);
    const rd = fromBinary(Mesh.RouteDiscoverySchema, (reply.payloadVariant.value as Mesh.Data).payload);
    expect(rd).toMatchObject(s.expectedTraceroute(far.num));

    const link = (a: number, b: number) => s!.links().find((l) => l.from === a && l.to === b);
    const towards = [s.myNodeNum, ...rd.route, far.num];
    const back = [far.num, ...rd.routeBack, s.myNodeNum];
    expect(rd.route).toHaveLength(far.hopsAway);
    expect(rd.snrTowards).toHaveLength(rd.route.length + 1);
    expect(rd.snrBack).toHaveLength(rd.routeBack.length + 1);
    for (let i = 1; i < towards.length; i++)
      expect(rd.snrTowards[i - 1]).toBe(link(towards[i - 1]!, towards[i]!)!.snr * 4);
    for (let i = 1; i < back.length; i++) expect(rd.snrBack[i - 1]).toBe(link(back[i - 1]!, back[i]!)!.snr * 4);
    // The reply travelled the back path: its last hop is the last relay before the gateway.
    expect(reply.relayNode).toBe(back.at(-2)! & 0xff);
    expect(reply.hopStart - reply.hopLimit).toBe(rd.routeBack.length);

    const ack = await waitFor('the ACK', () => replyTo(c!, 0x1001, P.ROUTING_APP));
    expect(ack.from).toBe(far.num);
    expect(fromBinary(Mesh.RoutingSchema, (ack.payloadVariant.value as Mesh.Data).payload).variant).toEqual({
      case: 'errorReason',
      value: Mesh.Routing_Error.NONE,
    });
  });

  it('drops requests inside the rate limit window: no ACK, no reply, a client notification', async () => {
    s = await startSimulator({ port: 0, nodes: 10, seed: 4, rate: 0, traceDelayMs: [20, 40], traceRateLimitMs: 1_500 });
    c = await RadioClient.tcp(s.port);
    await c.wantConfig(1);
    const target = s.nodes[5]!.num;
    traceroute(c, target, 0x2001);
    traceroute(c, target, 0x2002); // too soon: dropped
    await waitFor('the first reply', () => replyTo(c!, 0x2001, P.TRACEROUTE_APP));
    const firstAnswered = Date.now(); // the radio took the request before this
    const note = await waitFor('the notification', () =>
      c!.frames.find((f) => f.payloadVariant.case === 'clientNotification'),
    );
    expect(note.payloadVariant.value).toMatchObject({
      replyId: 0x2002,
      message: expect.stringMatching(/once every 30 seconds/),
    });
    // Once the window has passed a request is answered again; the dropped one never is.
    await waitFor('the window to pass', () => Date.now() - firstAnswered > 1_600, 5_000, 25);
    traceroute(c, target, 0x2003);
    await waitFor('the third reply', () => replyTo(c!, 0x2003, P.TRACEROUTE_APP));
    expect(replyTo(c, 0x2002, P.TRACEROUTE_APP)).toBeUndefined();
    expect(replyTo(c, 0x2002, P.ROUTING_APP)).toBeUndefined();
  });

  it('defaults to the firmware limit of one traceroute per 30 s', async () => {
    s = await startSimulator({ port: 0, nodes: 5, seed: 4, rate: 0, traceDelayMs: [10, 20] });
    c = await RadioClient.tcp(s.port);
    await c.wantConfig(1);
    traceroute(c, s.nodes[1]!.num, 0x3001);
    await waitFor('the first reply', () => replyTo(c!, 0x3001, P.TRACEROUTE_APP));
    traceroute(c, s.nodes[2]!.num, 0x3002);
    await waitFor('the notification', () => c!.frames.some((f) => f.payloadVariant.case === 'clientNotification'));
  });

  it('acknowledges want_ack packets as the mesh would, and reports unknown destinations', async () => {
    s = await startSimulator({ port: 0, nodes: 6, seed: 2, rate: 0, traceDelayMs: [10, 30] });
    c = await RadioClient.tcp(s.port);
    await c.wantConfig(1);
    const text = (to: number, id: number) =>
      c!.send({
        case: 'packet',
        value: create(Mesh.MeshPacketSchema, {
          to,
          id,
          wantAck: true,
          payloadVariant: {
            case: 'decoded',
            value: create(Mesh.DataSchema, { portnum: P.TEXT_MESSAGE_APP, payload: new TextEncoder().encode('hi') }),
          },
        }),
      });
    const node = s.nodes[4]!.num;
    text(node, 0x4001);
    text(0xffffffff, 0x4002);
    text(0x0badf00d, 0x4003);
    const ack = await waitFor('ACK from the node', () => replyTo(c!, 0x4001, P.ROUTING_APP));
    expect(ack.from).toBe(node);
    expect((await waitFor('implicit ACK', () => replyTo(c!, 0x4002, P.ROUTING_APP))).from).toBe(s.myNodeNum);
    const nak = await waitFor('NAK', () => replyTo(c!, 0x4003, P.ROUTING_APP));
    expect(fromBinary(Mesh.RoutingSchema, (nak.payloadVariant.value as Mesh.Data).payload).variant.value).toBe(
      Mesh.Routing_Error.MAX_RETRANSMIT,
    );
  });
});
