// XMPP over WebSocket (RFC 7395) on HTTP_PORT, with a real client library (xmpp.js over
// ws://) and raw ws connections for what a library will not send: login with a JWT and chat
// with a TCP client of the other datacenter, server answers, refused upgrades, bad frames
// while other sessions keep chatting, who counts as secure (wss:// through a TLS-terminating
// proxy included), the per-IP cap shared with TCP, metrics and shutdown. Two datacenters
// sharing a private Redis.
import type { INestApplication } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect as connectTcp, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startCluster, until, type Cluster, type RouterNode } from '../support/router-cluster';
import { processTrustsTestCa, testTls } from '../support/test-tls';
import { JWT_SECRET, jwtFor, xml, XmppTestClient } from '../support/xmpp-client';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
const MAX_PER_IP = 24;
const FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
const OPEN = `<open xmlns='${FRAMING}' to='example.com' version='1.0'/>`;

let cluster: Cluster;
const clients: XmppTestClient[] = [];
const raws: RawWebSocket[] = [];
const sockets: Socket[] = [];

function httpPort(app: INestApplication): number {
  return (app.getHttpServer().address() as AddressInfo).port;
}

function wsService(node: RouterNode, path = '/xmpp-websocket'): string {
  return `ws://127.0.0.1:${httpPort(node.app)}${path}`;
}

async function loginWs(
  node: RouterNode,
  username: string,
  resource?: string,
  token?: string,
): Promise<XmppTestClient> {
  const client = await XmppTestClient.connect({
    service: wsService(node),
    username,
    resource,
    token,
  });
  clients.push(client);
  return client;
}

async function loginTcp(node: RouterNode, username: string, resource?: string) {
  const client = await XmppTestClient.connect({ port: node.c2sPort, username, resource });
  clients.push(client);
  return client;
}

async function stillChatting(a: XmppTestClient, b: XmppTestClient, tag: string): Promise<void> {
  const before = [a.bodies().length, b.bodies().length];
  await a.message(b.jid, `${tag} a->b`);
  await b.message(a.jid, `${tag} b->a`);
  await b.waitForBodies(before[1]! + 1);
  await a.waitForBodies(before[0]! + 1);
  expect(b.bodies().at(-1)).toBe(`${tag} a->b`);
  expect(a.bodies().at(-1)).toBe(`${tag} b->a`);
}

beforeAll(async () => {
  cluster = await startCluster(
    { [DC1]: ['n1'], [DC2]: ['n1'] },
    (doc) => {
      doc.auth.jwt.secret = JWT_SECRET;
      doc.limits.maxConnectionsPerIp = MAX_PER_IP;
    },
    { tls: testTls() },
  );
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  for (const raw of raws.splice(0)) raw.terminate();
  for (const socket of sockets.splice(0)) socket.destroy();
  // Closed connections are counted off their IP address once the server sees them go.
  await until(
    async () =>
      (await cluster.node(DC1).metric('meridian_c2s_connections')) === 0 &&
      (await cluster.node(DC2).metric('meridian_c2s_connections')) === 0,
    5_000,
    'every connection closed',
  );
});

afterAll(async () => {
  await cluster?.close();
});

describe('login and chat', () => {
  it('logs in with a JWT over ws:// from loopback and chats with a TCP client of the other datacenter', async () => {
    const dc1 = cluster.node(DC1);
    const alice = await loginWs(dc1, 'alice', 'browser');
    expect(alice.jid).toBe('alice@example.com/browser');
    // Written to the session table before the bind result (ARCHITECTURE §12).
    expect(await cluster.redis.client.get('alice@example.com/browser')).toBe(DC1);
    const bob = await loginTcp(cluster.node(DC2), 'bob', 'laptop');

    await stillChatting(alice, bob, 'ws/tcp');
    await alice.presence();
    await bob.presence();
    await alice.message('bob@example.com', 'to the bare JID');
    await bob.waitFor((s) => s.getChildText('body') === 'to the bare JID', 'bare message');
    await bob.message('alice@example.com', 'back to the bare JID');
    await alice.waitFor((s) => s.getChildText('body') === 'back to the bare JID', 'bare reply');
    expect(bob.messages().at(-1)?.attrs.from).toBe('alice@example.com/browser');

    const websocket = { transport: 'websocket' };
    expect(await dc1.metric('meridian_c2s_sessions', websocket)).toBe(1);
    expect(await dc1.metric('meridian_c2s_sessions', { transport: 'tcp' })).toBe(0);
    expect(await dc1.metric('meridian_c2s_connections', websocket)).toBe(1);
    expect(await dc1.metric('meridian_c2s_logins_total', { result: 'ok' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(
      await dc1.metric('meridian_c2s_stanzas_in_total', { kind: 'message' }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      await dc1.metric('meridian_c2s_stanzas_out_total', { kind: 'message' }),
    ).toBeGreaterThanOrEqual(2);

    await alice.stop();
    await until(
      async () => (await dc1.metric('meridian_c2s_sessions', websocket)) === 0,
      5_000,
      'session gone from the gauge',
    );
    await until(
      async () => (await cluster.redis.client.get('alice@example.com/browser')) === null,
      5_000,
      'session gone from Redis',
    );
  });

  it('answers roster, ping and disco over WebSocket', async () => {
    const carol = await loginWs(cluster.node(DC2), 'carol');
    expect(carol.jid).toMatch(/^carol@example\.com\/[0-9a-f]{16}$/);
    const roster = await carol.iq('get', xml('query', { xmlns: 'jabber:iq:roster' }));
    expect(roster.attrs.type).toBe('result');
    expect(roster.getChild('query', 'jabber:iq:roster')?.children).toEqual([]);
    const pong = await carol.iq('get', xml('ping', { xmlns: 'urn:xmpp:ping' }), 'example.com');
    expect(pong.attrs.type).toBe('result');
    const info = await carol.iq(
      'get',
      xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
      'example.com',
    );
    expect(
      info
        .getChild('query')
        ?.getChildren('feature')
        .map((f) => f.attrs.var),
    ).toContain('urn:xmpp:ping');
  });

  it('refuses a bad JWT with not-authorized while other sessions keep chatting', async () => {
    const alice = await loginWs(cluster.node(DC1), 'alice', 'a');
    const bob = await loginTcp(cluster.node(DC2), 'bob', 'b');
    const attempts = {
      'another secret': await jwtFor('mallory', { secret: 'y'.repeat(40) }),
      expired: await jwtFor('mallory', { expiresInS: -120 }),
      'someone else': await jwtFor('bob'),
    };
    for (const [what, token] of Object.entries(attempts)) {
      await expect(
        XmppTestClient.connect({
          service: wsService(cluster.node(DC1)),
          username: 'mallory',
          token,
        }),
        what,
      ).rejects.toMatchObject({ condition: 'not-authorized' });
      await stillChatting(alice, bob, what);
    }
    expect(
      await cluster.node(DC1).metric('meridian_c2s_logins_total', { reason: 'expired' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('replaces an older TCP session of the same full JID with a WebSocket one (conflict)', async () => {
    const older = await loginTcp(cluster.node(DC1), 'dora', 'same');
    const newer = await loginWs(cluster.node(DC1), 'dora', 'same');
    expect(await older.streamError()).toBe('conflict');
    const peer = await loginTcp(cluster.node(DC2), 'eve', 'x');
    await stillChatting(newer, peer, 'after conflict');
  });
});

describe('upgrades', () => {
  it('refuses an upgrade without the xmpp subprotocol (RFC 7395 §3.3.1)', async () => {
    const url = wsService(cluster.node(DC1));
    expect(await refusedStatus(url, [])).toBe(400);
    expect(await refusedStatus(url, ['mqtt'])).toBe(400);
    expect(
      await cluster
        .node(DC1)
        .metric('meridian_websocket_refused_upgrades_total', { reason: 'subprotocol' }),
    ).toBe(2);
  });

  it('refuses upgrades on other paths, and keeps serving health over HTTP', async () => {
    const node = cluster.node(DC1);
    expect(await refusedStatus(wsService(node, '/'), ['xmpp'])).toBe(404);
    expect(await refusedStatus(wsService(node, '/xmpp-websocket/x'), ['xmpp'])).toBe(404);
    expect(await refusedStatus(wsService(node, '/health/live'), ['xmpp'])).toBe(404);
    const live = await fetch(`http://127.0.0.1:${httpPort(node.app)}/health/live`);
    expect(live.status).toBe(200);
  });

  it('answers with the xmpp subprotocol and a query string is ignored', async () => {
    const raw = await RawWebSocket.open(`${wsService(cluster.node(DC1))}?client=test`);
    expect(raw.ws.protocol).toBe('xmpp');
  });
});

describe('bad input', () => {
  it('ends a stream with not-well-formed for malformed XML; the process and others carry on', async () => {
    const alice = await loginWs(cluster.node(DC1), 'alice', 'w');
    const bob = await loginTcp(cluster.node(DC2), 'bob', 't');
    const raw = await RawWebSocket.open(wsService(cluster.node(DC1)));
    raw.send(OPEN);
    await raw.until(/<\/stream:features>/);
    raw.send('<message><body>unclosed</message>');
    const closed = await raw.closed;
    const error = raw.frames.find((f) => f.startsWith('<stream:error'));
    expect(error).toContain('<not-well-formed xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>');
    // RFC 7395 §3.6: the stream error, then <close/>, then the WebSocket closing handshake.
    expect(raw.frames.at(-1)).toBe(`<close xmlns='${FRAMING}'/>`);
    expect(closed.code).toBe(1000);
    await stillChatting(alice, bob, 'after bad XML');
  });

  it('ends the stream when a TCP stream header comes instead of <open/>', async () => {
    const raw = await RawWebSocket.open(wsService(cluster.node(DC1)));
    raw.send(
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'/>",
    );
    await raw.closed;
    expect(raw.frames.join('')).toContain('<not-well-formed');
  });

  it('ends the stream with policy-violation for an element over the limit', async () => {
    const alice = await loginWs(cluster.node(DC1), 'alice', 'big');
    // Over maxStanzaBytes (64 KiB) but within the frame bound: the session's parser says so.
    await alice.message('bob@example.com', 'x'.repeat(66_000));
    expect(await alice.streamError()).toBe('policy-violation');

    // Before authentication the bound is preAuthStanzaBytes (8 KiB).
    const raw = await RawWebSocket.open(wsService(cluster.node(DC1)));
    raw.send(OPEN);
    await raw.until(/<\/stream:features>/);
    raw.send(`<message><body>${'y'.repeat(9_000)}</body></message>`);
    await raw.closed;
    expect(raw.frames.join('')).toContain('<policy-violation');
  });

  it('closes a connection sending a frame over the frame bound (1009) or a binary frame (1003)', async () => {
    const node = cluster.node(DC1);
    const big = await RawWebSocket.open(wsService(node));
    big.send(OPEN);
    await big.until(/<\/stream:features>/);
    big.send(`<message><body>${'z'.repeat(200_000)}</body></message>`);
    expect((await big.closed).code).toBe(1009);

    const binary = await RawWebSocket.open(wsService(node));
    binary.send(Buffer.from(OPEN));
    expect((await binary.closed).code).toBe(1003);
    expect(
      await node.metric('meridian_websocket_refused_frames_total', { reason: 'too-large' }),
    ).toBe(1);
    expect(await node.metric('meridian_websocket_refused_frames_total', { reason: 'binary' })).toBe(
      1,
    );
    // The endpoint still takes logins.
    await loginWs(node, 'after', 'frames');
  });
});

describe('who is secure', () => {
  const mechanisms = /<mechanism>PLAIN<\/mechanism>/;

  async function featuresFor(headers: Record<string, string>): Promise<string> {
    const raw = await RawWebSocket.open(wsService(cluster.node(DC1)), ['xmpp'], headers);
    raw.send(OPEN);
    const features = await raw.until(/<\/stream:features>|<stream:features[^>]*\/>/);
    raw.terminate();
    return features;
  }

  it('offers PLAIN (and never STARTTLS) to a loopback client', async () => {
    const features = await featuresFor({});
    expect(features).toMatch(mechanisms);
    expect(features).not.toContain('starttls');
  });

  it('trusts a loopback proxy: PLAIN only when it says the client used https', async () => {
    const remote = { 'X-Forwarded-For': '203.0.113.9' };
    expect(await featuresFor(remote)).not.toMatch(mechanisms);
    expect(await featuresFor({ ...remote, 'X-Forwarded-Proto': 'http' })).not.toMatch(mechanisms);
    expect(await featuresFor({ ...remote, 'X-Forwarded-Proto': 'https' })).toMatch(mechanisms);
    // A client-supplied first entry does not matter: the proxy's own (last) one does.
    expect(await featuresFor({ 'X-Forwarded-For': '127.0.0.1, 203.0.113.9' })).not.toMatch(
      mechanisms,
    );
  });

  it('counts a proxied client under its forwarded address for the per-IP cap', async () => {
    const forwarded = { 'X-Forwarded-For': '198.51.100.7', 'X-Forwarded-Proto': 'https' };
    const url = wsService(cluster.node(DC1));
    for (let i = 0; i < MAX_PER_IP; i++) {
      const raw = await RawWebSocket.open(url, ['xmpp'], forwarded);
      raw.send(OPEN);
      await raw.until(/stream:features/);
    }
    const refused = await RawWebSocket.open(url, ['xmpp'], forwarded);
    await refused.closed;
    expect(refused.frames.join('')).toContain('<policy-violation');
    // Loopback itself is another address, and still has room.
    await loginWs(cluster.node(DC1), 'local', 'still');
  });
  it('logs in a wss:// client through a TLS-terminating proxy on the router host', async (context) => {
    const tls = testTls();
    if (!processTrustsTestCa(tls)) context.skip('the test CA is not trusted by this worker');
    const proxy = await startWssProxy(httpPort(cluster.node(DC1).app), {
      cert: readFileSync(tls.certFile),
      key: readFileSync(tls.keyFile),
      // A client elsewhere: only X-Forwarded-Proto makes its connection secure.
      forwardedFor: '203.0.113.50',
    });
    try {
      const client = await XmppTestClient.connect({
        service: `wss://localhost:${proxy.port}/xmpp-websocket`,
        username: 'faraway',
        resource: 'wss',
      });
      clients.push(client);
      const peer = await loginTcp(cluster.node(DC2), 'near', 'tcp');
      await stillChatting(client, peer, 'through the proxy');
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.stop()));
      proxy.close();
    }
  });
});

describe('limits shared with TCP', () => {
  it('counts WebSocket and TCP connections of one address against one cap', async () => {
    const node = cluster.node(DC2);
    const half = MAX_PER_IP / 2;
    for (let i = 0; i < half; i++) sockets.push(await tcpConnection(node.c2sPort));
    for (let i = 0; i < half; i++) {
      const raw = await RawWebSocket.open(wsService(node));
      raw.send(OPEN);
      await raw.until(/stream:features/);
    }
    await until(
      async () => (await node.metric('meridian_c2s_connections')) === MAX_PER_IP,
      5_000,
      'all connections counted',
    );
    expect(await node.metric('meridian_c2s_connections', { transport: 'websocket' })).toBe(half);
    const refusedWs = await RawWebSocket.open(wsService(node));
    await refusedWs.closed;
    expect(refusedWs.frames.join('')).toContain('<policy-violation');
    const refusedTcp = await tcpConnection(node.c2sPort);
    sockets.push(refusedTcp);
    let answer = '';
    refusedTcp.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    await until(() => answer.includes('</stream:stream>'), 5_000, 'TCP refused');
    expect(answer).toContain('<policy-violation');
    expect(
      await node.metric('meridian_c2s_refused_connections_total', { reason: 'per-ip' }),
    ).toBeGreaterThanOrEqual(2);
  });
});

describe('shutdown', () => {
  it('ends WebSocket streams with system-shutdown and removes their sessions', async () => {
    const extra = await cluster.startNode(DC1, 'n3');
    const client = await loginWs(extra, 'nina', 'ws');
    const raw = await RawWebSocket.open(wsService(extra));
    raw.send(OPEN);
    await raw.until(/stream:features/);
    expect(await cluster.redis.client.get('nina@example.com/ws')).toBe(DC1);
    const started = performance.now();
    const closing = extra.close();
    expect(await client.streamError()).toBe('system-shutdown');
    expect((await raw.closed).code).toBe(1000);
    expect(raw.frames.join('')).toContain('<system-shutdown');
    await closing;
    expect(performance.now() - started).toBeLessThan(5_000);
    cluster.nodes.splice(cluster.nodes.indexOf(extra), 1);
    expect(await cluster.redis.client.get('nina@example.com/ws')).toBeNull();
  });
});

// ---- helpers ----------------------------------------------------------------------------

/** The HTTP status an upgrade is refused with (rejects if it is accepted). */
function refusedStatus(url: string, protocols: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      ws.terminate();
      reject(new Error(`upgrade to ${url} accepted`));
    });
    ws.on('error', () => undefined);
  });
}

/**
 * What nginx does in front of the router: wss:// on its own port (the test certificate),
 * upgrades passed to HTTP_PORT on loopback with X-Forwarded-For and X-Forwarded-Proto.
 */
async function startWssProxy(
  targetPort: number,
  options: { cert: Buffer; key: Buffer; forwardedFor: string },
): Promise<{ port: number; close(): void }> {
  const server = createHttpsServer({ cert: options.cert, key: options.key });
  const sockets = new Set<Socket | Duplex>();
  server.on('upgrade', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    const upstream = connectTcp(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      if (!/^x-forwarded-/i.test(name)) headers.push(`${name}: ${req.rawHeaders[i + 1]}`);
    }
    headers.push(`X-Forwarded-For: ${options.forwardedFor}`, 'X-Forwarded-Proto: https');
    upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
    upstream.write(head);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

function tcpConnection(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** A ws connection speaking raw RFC 7395 frames, for what a client library will not send. */
class RawWebSocket {
  readonly frames: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.frames.push(data.toString());
    });
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static open(
    url: string,
    protocols: string[] = ['xmpp'],
    headers: Record<string, string> = {},
  ): Promise<RawWebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { headers });
      const raw = new RawWebSocket(ws);
      raws.push(raw);
      ws.once('open', () => resolve(raw));
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
    });
  }

  send(frame: string | Buffer): void {
    this.ws.send(frame);
  }

  /** Everything received so far, joined, once it matches. */
  async until(pattern: RegExp, timeoutMs = 5_000): Promise<string> {
    await until(
      () => pattern.test(this.frames.join('')),
      timeoutMs,
      `${pattern} in ${this.frames.join('')}`,
    );
    return this.frames.join('');
  }

  terminate(): void {
    this.ws.terminate();
  }
}
