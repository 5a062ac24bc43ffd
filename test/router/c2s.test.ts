// Clients over TCP with a real client library (xmpp.js): STARTTLS verified against the test CA,
// SASL PLAIN with a JWT, binding, chat across datacenters and nodes, errors for gone users,
// moves between datacenters, order, conflicts, server answers, bad logins and bad input while
// other sessions keep chatting, dynamic domains, isolated host types and shutdown. Two
// datacenters, the first with two nodes, sharing a private Redis.
import { SignJWT, generateKeyPair } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RouterConfig as RouterConfigRef } from '../../apps/router/src/config-sync';
import { RawStream, streamOpen } from '../support/raw-stream';
import { startCluster, until, type Cluster } from '../support/router-cluster';
import { testTls } from '../support/test-tls';
import { JWT_SECRET, jwtFor, xml, XmppTestClient } from '../support/xmpp-client';
import { pushDomainEvents, upsert } from './config-sync-support';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
const COMPONENT_SECRET = 'component-secret-of-some-length';

let cluster: Cluster;
const clients: XmppTestClient[] = [];

async function login(
  localHost: string,
  username: string,
  resource?: string,
  options: { node?: string; domain?: string; token?: string } = {},
): Promise<XmppTestClient> {
  const client = await XmppTestClient.connect({
    port: cluster.node(localHost, options.node).c2sPort,
    username,
    resource,
    domain: options.domain,
    token: options.token,
  });
  clients.push(client);
  return client;
}

/** Both directions deliver: the two clients still chat. */
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
    { [DC1]: ['n1', 'n2'], [DC2]: ['n1'] },
    (doc) => {
      doc.auth.jwt.secret = JWT_SECRET;
      doc.components = [
        { domain: 'visible.example.com', secret: COMPONENT_SECRET, hidden: false },
        { domain: 'hidden.example.com', secret: COMPONENT_SECRET, hidden: true },
      ];
      doc.hostTypes = [
        { name: 'default', isolated: false },
        { name: 'sealed', isolated: true },
      ];
    },
    { tls: testTls() },
  );
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
});

afterAll(async () => {
  await cluster?.close();
});

describe('login', () => {
  it('negotiates STARTTLS with a certificate the client verifies, then PLAIN with a JWT', async () => {
    const started = performance.now();
    const alice = await login(DC1, 'alice', 'phone');
    const elapsed = performance.now() - started;
    expect(alice.jid).toBe('alice@example.com/phone');
    expect(elapsed).toBeLessThan(2_000);
    expect(
      await cluster.node(DC1, 'n1').metric('meridian_c2s_logins_total', { result: 'ok' }),
    ).toBe(1);
    expect(await cluster.node(DC1, 'n1').metric('meridian_c2s_sessions')).toBe(1);
    // Written to the session table before the bind result (ARCHITECTURE §12).
    expect(await cluster.redis.client.get('alice@example.com/phone')).toBe(DC1);
  });

  it('generates a resource when none is asked, and normalises the username', async () => {
    const client = await login(DC2, 'Carol');
    expect(client.jid).toMatch(/^carol@example\.com\/[0-9a-f]{16}$/);
  });

  it('refuses a bad, an expired or a wrongly signed JWT while other sessions keep chatting', async () => {
    const alice = await login(DC1, 'alice', 'phone');
    const bob = await login(DC2, 'bob', 'laptop');
    const port = cluster.node(DC2).c2sPort;
    const attempts = {
      'another secret': await jwtFor('mallory', { secret: 'x'.repeat(40) }),
      expired: await jwtFor('mallory', { expiresInS: -120 }),
      'someone else': await jwtFor('bob'),
      'wrong algorithm': await new SignJWT({ sub: 'mallory', exp: Date.now() / 1000 + 60 })
        .setProtectedHeader({ alg: 'ES256' })
        .sign((await generateKeyPair('ES256')).privateKey),
      'not a JWT': 'hunter2',
    };
    for (const [what, token] of Object.entries(attempts)) {
      await expect(
        XmppTestClient.connect({ port, username: 'mallory', token }),
        what,
      ).rejects.toMatchObject({ condition: 'not-authorized' });
      await stillChatting(alice, bob, what);
    }
    const failed = await cluster
      .node(DC2)
      .metric('meridian_c2s_logins_total', { result: 'failed' });
    expect(failed).toBe(5);
    expect(await cluster.node(DC2).metric('meridian_c2s_logins_total', { reason: 'expired' })).toBe(
      1,
    );
    expect(
      await cluster.node(DC2).metric('meridian_c2s_logins_total', { reason: 'wrong-algorithm' }),
    ).toBe(1);
  });

  it('answers host-unknown for a domain it does not serve', async () => {
    await expect(
      XmppTestClient.connect({
        port: cluster.node(DC1, 'n1').c2sPort,
        domain: 'nowhere.example.com',
        username: 'alice',
      }),
    ).rejects.toMatchObject({ condition: 'host-unknown' });
  });

  it('offers no SASL before TLS and requires STARTTLS', async () => {
    const raw = await RawStream.open(cluster.node(DC1, 'n1').c2sPort);
    raw.write(streamOpen('example.com'));
    const features = await raw.until(/<\/stream:features>/);
    expect(features).toContain('<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"><required/>');
    expect(features).not.toContain('mechanisms');
    raw.write(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHg=</auth>`,
    );
    expect(await raw.until(/<\/failure>/)).toContain('<encryption-required/>');
    raw.close();
  });
});

describe('chat between datacenters', () => {
  it('delivers both ways to full JIDs before any presence, and to bare JIDs after it', async () => {
    const alice = await login(DC1, 'alice', 'phone', { node: 'n1' });
    const bob = await login(DC2, 'bob', 'laptop');
    await alice.message('bob@example.com/laptop', 'full 1');
    await bob.waitForBodies(1);
    await bob.message('alice@example.com/phone', 'full 2');
    await alice.waitForBodies(1);

    await alice.presence();
    await bob.presence({}, xml('priority', {}, '1'));
    // Initial presence comes back to the user's own available resources (RFC 6121 §4.2.2).
    await bob.waitFor((s) => s.name === 'presence' && s.attrs.from === bob.jid, 'own presence');
    await alice.message('bob@example.com', 'bare 1');
    await bob.waitForBodies(2);
    await bob.message('alice@example.com', 'bare 2');
    await alice.waitForBodies(2);
    expect(bob.bodies()).toEqual(['full 1', 'bare 1']);
    expect(alice.bodies()).toEqual(['full 2', 'bare 2']);
    const fromAlice = bob.messages()[1]!;
    expect(fromAlice.attrs.from).toBe('alice@example.com/phone');
    expect(fromAlice.attrs.to).toBe('bob@example.com');
    const dc1 = cluster.node(DC1, 'n1');
    const dc2 = cluster.node(DC2);
    expect(
      await dc1.metric('meridian_c2s_stanzas_in_total', { kind: 'message' }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      await dc2.metric('meridian_c2s_stanzas_out_total', { kind: 'message' }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      await dc1.metric('meridian_c2s_stanzas_in_total', { kind: 'presence' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('delivers between the two nodes of a datacenter, and to bare JIDs on either node', async () => {
    const carol = await login(DC1, 'carol', 'a', { node: 'n1' });
    const dave = await login(DC1, 'dave', 'b', { node: 'n2' });
    await stillChatting(carol, dave, 'same datacenter');
    await carol.presence();
    await dave.presence();
    // Senders at the other datacenter: whichever node of DC1 their stanzas reach, both arrive.
    const senders = await Promise.all(
      ['s1', 's2', 's3', 's4'].map((name) => login(DC2, name, 'x')),
    );
    for (const sender of senders) {
      await sender.message('carol@example.com', `to carol from ${sender.jid}`);
      await sender.message('dave@example.com', `to dave from ${sender.jid}`);
    }
    expect(await carol.waitForBodies(5)).toHaveLength(5);
    expect(await dave.waitForBodies(5)).toHaveLength(5);
  });

  it('rewrites a spoofed from to the session full JID', async () => {
    const alice = await login(DC1, 'alice', 'phone');
    const bob = await login(DC2, 'bob', 'laptop');
    await alice.send(
      xml(
        'message',
        { to: bob.jid, from: 'admin@example.com/x', type: 'chat' },
        xml('body', {}, 'hi'),
      ),
    );
    const received = await bob.waitFor((s) => s.name === 'message', 'message');
    expect(received.attrs.from).toBe('alice@example.com/phone');
  });

  it('sends messages to the highest-priority available resource of a bare JID', async () => {
    const low = await login(DC2, 'erin', 'low');
    const high = await login(DC2, 'erin', 'high');
    const frank = await login(DC1, 'frank', 'x');
    await low.presence({}, xml('priority', {}, '1'));
    await high.presence({}, xml('priority', {}, '10'));
    await high.waitFor((s) => s.name === 'presence' && s.attrs.from === low.jid, 'presence of low');
    await frank.message('erin@example.com', 'to the top');
    await high.waitForBodies(1);
    expect(low.bodies()).toEqual([]);
    // Both resources see each other's presence; a negative priority gets no bare messages.
    await high.presence({}, xml('priority', {}, '-1'));
    await low.waitFor(
      (s) =>
        s.name === 'presence' && s.attrs.from === high.jid && s.getChildText('priority') === '-1',
      'new priority of high',
    );
    await frank.message('erin@example.com', 'now low');
    await low.waitForBodies(1);
    expect(high.bodies()).toEqual(['to the top']);
  });

  it('answers service-unavailable once a user is gone, and delivers where the user logs in again', async () => {
    const alice = await login(DC1, 'alice', 'phone');
    const bob = await login(DC2, 'bob', 'laptop');
    await alice.message(bob.jid, 'before');
    await bob.waitForBodies(1);
    await bob.stop();
    await until(async () => (await cluster.redis.client.get('bob@example.com/laptop')) === null);

    await alice.message('bob@example.com/laptop', 'into the void', { id: 'lost-1' });
    const error = await alice.waitFor((s) => s.attrs.type === 'error', 'error');
    expect(error.attrs.id).toBe('lost-1');
    expect(error.attrs.from).toBe('bob@example.com/laptop');
    expect(error.getChild('error')?.getChild('service-unavailable')).toBeTruthy();

    // Bob comes back at the other datacenter, on the second node.
    const bobAgain = await login(DC1, 'bob', 'laptop', { node: 'n2' });
    await alice.message('bob@example.com/laptop', 'found you 1');
    await alice.message('bob@example.com/laptop', 'found you 2');
    expect(await bobAgain.waitForBodies(2)).toEqual(['found you 1', 'found you 2']);
    await bobAgain.message(alice.jid, 'back');
    await alice.until(() => alice.bodies().includes('back'), 'reply');
  });

  it('keeps the order of 100 messages across datacenters', async () => {
    const alice = await login(DC1, 'alice', 'phone', { node: 'n2' });
    const bob = await login(DC2, 'bob', 'laptop');
    const sent = Array.from({ length: 100 }, (_, i) => `m${i}`);
    for (const body of sent) await alice.message(bob.jid, body);
    expect(await bob.waitForBodies(100, 20_000)).toEqual(sent);
  });
});

describe('the same full JID twice', () => {
  it('closes the older session with conflict, on the same node, another node or another datacenter', async () => {
    const placements: [string, string | undefined][] = [
      [DC1, 'n1'],
      [DC1, 'n1'], // same node
      [DC1, 'n2'], // other node of the datacenter
      [DC2, undefined], // other datacenter
      [DC1, 'n1'], // and back
    ];
    let previous: XmppTestClient | null = null;
    for (const [localHost, node] of placements) {
      const current = await login(localHost, 'grace', 'desk', { node });
      if (previous) {
        expect(await previous.streamError()).toBe('conflict');
      }
      previous = current;
    }
    const peer = await login(DC2, 'heidi', 'x');
    await stillChatting(previous!, peer, 'after conflicts');
    expect(await cluster.redis.client.get('grace@example.com/desk')).toBe(DC1);
  });
});

describe('the server itself', () => {
  it('answers ping, disco#info, disco#items (visible components only), an empty roster and session', async () => {
    const alice = await login(DC2, 'alice', 'phone');
    await alice.iq('get', xml('ping', { xmlns: 'urn:xmpp:ping' }), 'example.com');
    await alice.iq('get', xml('ping', { xmlns: 'urn:xmpp:ping' }));

    const info = await alice.iq(
      'get',
      xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
      'example.com',
    );
    const query = info.getChild('query')!;
    expect(query.getChild('identity')?.attrs).toMatchObject({ category: 'server', type: 'im' });
    const features = query.getChildren('feature').map((f) => f.attrs.var);
    expect(features).toEqual(
      expect.arrayContaining(['urn:xmpp:ping', 'http://jabber.org/protocol/disco#items']),
    );

    const items = await alice.iq(
      'get',
      xml('query', { xmlns: 'http://jabber.org/protocol/disco#items' }),
      'example.com',
    );
    expect(
      items
        .getChild('query')!
        .getChildren('item')
        .map((i) => i.attrs.jid),
    ).toEqual(['visible.example.com']);

    const roster = await alice.iq('get', xml('query', { xmlns: 'jabber:iq:roster' }));
    const rosterQuery = roster.getChild('query', 'jabber:iq:roster');
    expect(rosterQuery).toBeTruthy();
    expect(rosterQuery!.children).toEqual([]);

    await alice.iq('set', xml('session', { xmlns: 'urn:ietf:params:xml:ns:xmpp-session' }));
    await expect(
      alice.iq('get', xml('query', { xmlns: 'urn:example:unknown' }), 'example.com'),
    ).rejects.toMatchObject({ condition: 'service-unavailable' });
  });
});

describe('bad input', () => {
  it('closes a stream with malformed XML (not-well-formed); others keep chatting', async () => {
    const alice = await login(DC1, 'alice', 'phone');
    const bob = await login(DC2, 'bob', 'laptop');
    const bad = await login(DC1, 'mallory', 'x');
    await bad.xmpp.write('<message to="bob@example.com"><body>oops</message>');
    expect(await bad.streamError()).toBe('not-well-formed');
    await stillChatting(alice, bob, 'after malformed');
  });

  it('closes a stream sending a stanza over maxStanzaBytes (policy-violation); others keep chatting', async () => {
    const alice = await login(DC1, 'alice', 'phone');
    const bob = await login(DC2, 'bob', 'laptop');
    const big = await login(DC2, 'mallory', 'y');
    await big.message(bob.jid, 'x'.repeat(70_000));
    expect(await big.streamError()).toBe('policy-violation');
    await stillChatting(alice, bob, 'after oversize');
    expect(bob.bodies().some((b) => b.length > 1000)).toBe(false);
  });

  it('refuses a restricted XML construct before login (restricted-xml)', async () => {
    const raw = await RawStream.open(cluster.node(DC2).c2sPort);
    raw.write(streamOpen('example.com'));
    await raw.until(/<\/stream:features>/);
    raw.write('<!-- a comment -->');
    expect(await raw.until(/<\/stream:stream>/)).toContain('<restricted-xml');
    raw.close();
  });

  it('refuses stanzas before authentication (not-authorized)', async () => {
    const raw = await RawStream.open(cluster.node(DC2).c2sPort);
    raw.write(streamOpen('example.com'));
    await raw.until(/<\/stream:features>/);
    raw.write("<message to='bob@example.com'><body>hi</body></message>");
    expect(await raw.until(/<\/stream:stream>/)).toContain('<not-authorized');
    raw.close();
  });
});

describe('dynamic domains and host types', () => {
  it('serves a domain created through configuration, and closes its sessions when it is disabled', async () => {
    await pushDomainEvents(cluster.redis.client, [upsert(1, 'shop.example.net')]);
    await until(
      () =>
        cluster.nodes.every((n) => n.app.get(RouterConfigRef).isServedDomain('shop.example.net')),
      10_000,
      'domain served everywhere',
    );
    const ivan = await login(DC1, 'ivan', 'pc', { domain: 'shop.example.net' });
    expect(ivan.jid).toBe('ivan@shop.example.net/pc');
    const judy = await login(DC2, 'judy', 'pc');
    await stillChatting(ivan, judy, 'dynamic');

    await pushDomainEvents(cluster.redis.client, [upsert(2, 'shop.example.net', false)]);
    expect(await ivan.streamError()).toBe('host-unknown');
    await expect(
      XmppTestClient.connect({
        port: cluster.node(DC2).c2sPort,
        domain: 'shop.example.net',
        username: 'ivan',
      }),
    ).rejects.toMatchObject({ condition: 'host-unknown' });
  });

  it('stops stanzas between an isolated host type and other domains', async () => {
    await pushDomainEvents(cluster.redis.client, [upsert(3, 'vault.example.net', true, 'sealed')]);
    await until(
      () =>
        cluster.nodes.every((n) => n.app.get(RouterConfigRef).isServedDomain('vault.example.net')),
      10_000,
      'isolated domain served',
    );
    const inside = await login(DC1, 'kim', 'a', { domain: 'vault.example.net' });
    const neighbour = await login(DC2, 'lou', 'b', { domain: 'vault.example.net' });
    const outside = await login(DC2, 'mia', 'c');
    await stillChatting(inside, neighbour, 'inside');

    await inside.message(outside.jid, 'let me out', { id: 'iso-1' });
    const error = await inside.waitFor(
      (s) => s.attrs.id === 'iso-1' && s.attrs.type === 'error',
      'error',
    );
    expect(error.getChild('error')?.getChild('service-unavailable')).toBeTruthy();
    await outside.message(inside.jid, 'let me in', { id: 'iso-2' });
    await outside.waitFor((s) => s.attrs.id === 'iso-2' && s.attrs.type === 'error', 'error');
    expect(inside.bodies().filter((b) => b.startsWith('let me'))).toEqual([]);
    expect(outside.bodies()).toEqual([]);
  });
});

describe('shutdown', () => {
  it('closes client streams with system-shutdown and removes their sessions', async () => {
    const extra = await cluster.startNode(DC1, 'n3');
    const client = await XmppTestClient.connect({
      port: extra.c2sPort,
      username: 'nina',
      resource: 'r',
    });
    clients.push(client);
    expect(await cluster.redis.client.get('nina@example.com/r')).toBe(DC1);
    const closing = extra.close();
    expect(await client.streamError()).toBe('system-shutdown');
    await closing;
    cluster.nodes.splice(cluster.nodes.indexOf(extra), 1);
    expect(await cluster.redis.client.get('nina@example.com/r')).toBeNull();
  });
});

// ---- helpers ----------------------------------------------------------------------------
