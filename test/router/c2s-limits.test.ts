// The edge's bounds (ARCHITECTURE §9) with real clients: the per-session shaper slows a flood
// without dropping anything while other sessions keep chatting, the pending-auth timeout,
// connections per IP address, the output bound for a client that stops reading, and a taken
// C2S_PORT refusing boot.
import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BootError } from '../../apps/router/src/boot/boot-error';
import { startRouter } from '../../apps/router/src/boot/start-router';
import { parseRouterEnv } from '../../apps/router/src/env/router-env';
import { RawStream, streamOpen } from '../support/raw-stream';
import { startCluster, until, type Cluster } from '../support/router-cluster';
import { testTls } from '../support/test-tls';
import { JWT_SECRET, jwtFor, XmppTestClient } from '../support/xmpp-client';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
const RATE = 50;
const BURST = 10;
const MAX_PER_IP = 8;

let cluster: Cluster;
const clients: XmppTestClient[] = [];

async function login(localHost: string, username: string, resource: string) {
  const client = await XmppTestClient.connect({
    port: cluster.node(localHost).c2sPort,
    username,
    resource,
  });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  cluster = await startCluster(
    { [DC1]: ['n1'], [DC2]: ['n1'] },
    (doc) => {
      doc.auth.jwt.secret = JWT_SECRET;
      doc.limits.stanzasPerSecond = RATE;
      doc.limits.stanzaBurst = BURST;
      doc.limits.authTimeoutS = 1;
      doc.limits.maxConnectionsPerIp = MAX_PER_IP;
    },
    { tls: testTls() },
  );
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  RawStream.closeAll();
  // Closed connections are counted off their IP address once the server sees them go.
  await new Promise((resolve) => setTimeout(resolve, 100));
});

afterAll(async () => {
  await cluster?.close();
});

describe('shaper', () => {
  it('slows a flooding session down without dropping, while others keep chatting', async () => {
    const flooder = await login(DC1, 'flood', 'x');
    const sink = await login(DC2, 'sink', 'y');
    const alice = await login(DC1, 'alice', 'a');
    const bob = await login(DC2, 'bob', 'b');
    const count = 150;
    const started = performance.now();
    for (let i = 0; i < count; i++) void flooder.message(sink.jid, `f${i}`);

    // While the flood is being shaped, a message between others takes no longer than usual.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const chatStarted = performance.now();
    await alice.message(bob.jid, 'unaffected');
    await bob.waitForBodies(1);
    const chatMs = performance.now() - chatStarted;
    expect(chatMs).toBeLessThan(1_500);
    expect(sink.bodies().length).toBeLessThan(count);

    const bodies = await sink.waitForBodies(count, 20_000);
    const elapsedS = (performance.now() - started) / 1000;
    expect(bodies).toEqual(Array.from({ length: count }, (_, i) => `f${i}`));
    // The burst goes at once, the rest at the rate (a little slack for timers).
    expect(elapsedS).toBeGreaterThan(((count - BURST) / RATE) * 0.9);
    expect(await cluster.node(DC1).metric('meridian_c2s_shaped_total')).toBeGreaterThan(0);
  });
});

describe('connections', () => {
  it('closes a connection that does not authenticate in time (connection-timeout)', async () => {
    const raw = await RawStream.open(cluster.node(DC1).c2sPort);
    raw.write(streamOpen());
    await raw.until(/<\/stream:features>/);
    const received = await raw.until(/<\/stream:stream>/, 3_000);
    expect(received).toContain('<connection-timeout');
  });

  it(`refuses more than ${MAX_PER_IP} connections from one address (policy-violation)`, async () => {
    const open: RawStream[] = [];
    for (let i = 0; i < MAX_PER_IP; i++) {
      const raw = await RawStream.open(cluster.node(DC2).c2sPort);
      raw.write(streamOpen());
      await raw.until(/<\/stream:features>/);
      open.push(raw);
    }
    const refused = await RawStream.open(cluster.node(DC2).c2sPort);
    expect(await refused.until(/<\/stream:stream>/)).toContain('<policy-violation');
    // Another datacenter's router counts its own connections.
    const other = await RawStream.open(cluster.node(DC1).c2sPort);
    other.write(streamOpen());
    expect(await other.until(/<\/stream:features>/)).toContain('starttls');
    // Once one closes, a new connection is accepted again.
    open[0]!.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await RawStream.open(cluster.node(DC2).c2sPort);
    again.write(streamOpen());
    expect(await again.until(/<\/stream:features>/)).toContain('starttls');
  });

  it('closes the stream of a client that stops reading, once its output passes the bound', async () => {
    const reader = await loginRaw(cluster.node(DC2).c2sPort, 'sleepy', 'r');
    reader.socket.pause(); // reads nothing more
    const node = cluster.node(DC2);
    const body = 'z'.repeat(60_000);
    for (let i = 0; i < 400 && (await cluster.redis.client.get('sleepy@example.com/r')); i++) {
      await node.send('pusher@example.com/p', 'sleepy@example.com/r', body);
    }
    await until(
      async () =>
        (await node.metric('meridian_c2s_stream_errors_total', { condition: 'policy-violation' })) >
        0,
      10_000,
      'output bound',
    );
    await until(async () => (await cluster.redis.client.get('sleepy@example.com/r')) === null);
  });
});

describe('boot', () => {
  it('refuses to start when C2S_PORT is taken, naming the setting', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const port = (blocker.address() as { port: number }).port;
    const env = parseRouterEnv(
      {
        MERIDIAN_LOCAL_HOST: DC1,
        MERIDIAN_NODE: 'blocked',
        REDIS_URL: cluster.redis.url,
        HTTP_PORT: '0',
        C2S_PORT: String(port),
        COMPONENT_PORT: '0',
        INTERLINK_LISTEN: '127.0.0.1:0',
        INTERLINK_ADVERTISE: '127.0.0.1:1',
        LOG_LEVEL: 'silent',
      },
      { hostname: 'test', pid: process.pid, isReadableFile: () => false },
    );
    try {
      const failure = await startRouter(env).then(
        async (app) => {
          await app.close();
          return null;
        },
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(BootError);
      expect((failure as Error).message).toBe(
        `C2S_PORT: port ${port} is already in use by another process`,
      );
    } finally {
      blocker.close();
    }
  });
});

// ---- helpers ----------------------------------------------------------------------------

/** A client written by hand (to stop reading at will): STARTTLS, PLAIN with a JWT, bind. */
async function loginRaw(port: number, username: string, resource: string): Promise<RawStream> {
  const stream = await (await RawStream.open(port)).startTls();
  await stream.until(/<\/stream:features>/);
  const token = await jwtFor(username);
  const auth = Buffer.from(`\u0000${username}\u0000${token}`).toString('base64');
  stream.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${auth}</auth>`);
  await stream.until(/<success/);
  stream.reset();
  stream.write(streamOpen());
  await stream.until(/<\/stream:features>/);
  stream.write(
    `<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`,
  );
  await stream.until(/<\/iq>/);
  return stream;
}
