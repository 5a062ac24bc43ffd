// Rotating keys without downtime, through revisions as control publishes them: a JWT key
// (auth.jwt.previousSecret) with real c2s logins (xmpp.js over STARTTLS), and component
// secrets (components[].previousSecret) with real components (@xmpp/component). While the
// previous key is configured both keys are accepted and nothing connected is closed; once it
// is removed, the old key is refused and components still on it are closed.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RouterConfig } from '../../apps/router/src/config-sync';
import { connectComponent, refusal, type ComponentPeer } from '../support/component-peer';
import { startCluster, until, type Cluster, type TestSession } from '../support/router-cluster';
import { testTls } from '../support/test-tls';
import { jwtFor, XmppTestClient } from '../support/xmpp-client';

const DC1 = 'dc1.example.com';
const OLD_JWT_SECRET = 'the-jwt-secret-before-the-rotation-0123456789';
const NEW_JWT_SECRET = 'the-jwt-secret-after-the-rotation-9876543210';
const OLD_SECRET = 'component-secret-before';
const NEW_SECRET = 'component-secret-after';
const WRONG_SECRET = 'component-secret-never';

let cluster: Cluster;
const clients: XmppTestClient[] = [];
const peers: ComponentPeer[] = [];

beforeAll(async () => {
  cluster = await startCluster(
    { [DC1]: ['n1'] },
    (doc) => {
      doc.auth.jwt.secret = OLD_JWT_SECRET;
      doc.components = [
        { domain: 'single.example.com', secret: OLD_SECRET, hidden: false },
        { domain: 'pool.example.com', secret: OLD_SECRET, hidden: false, balancing: 'random' },
      ];
    },
    { tls: testTls() },
  );
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
});

afterAll(async () => {
  await Promise.all(peers.map((peer) => peer.stop()));
  await cluster?.close();
});

/** Publishes a revision and waits until the router runs it. */
async function publish(change: Parameters<Cluster['publish']>[0]): Promise<void> {
  const revision = await cluster.publish(change);
  const config = cluster.node(DC1).app.get(RouterConfig);
  await until(() => config.snapshot.revision === revision, 15_000, `revision ${revision} applied`);
}

async function login(username: string, secret: string): Promise<XmppTestClient> {
  const client = await XmppTestClient.connect({
    port: cluster.node(DC1).c2sPort,
    username,
    token: await jwtFor(username, { secret }),
  });
  clients.push(client);
  return client;
}

/** The condition a login is refused with, or `accepted`. */
async function loginOutcome(username: string, secret: string): Promise<string> {
  try {
    const client = await login(username, secret);
    await client.stop();
    return 'accepted';
  } catch (error) {
    return (error as { condition?: string }).condition ?? String(error);
  }
}

async function component(domain: string, secret: string): Promise<ComponentPeer> {
  const peer = await connectComponent(cluster.node(DC1), domain, secret);
  peers.push(peer);
  return peer;
}

/** A message to `domain` comes back from the component serving it. */
async function answers(user: TestSession, domain: string, body: string): Promise<void> {
  const before = user.received.length;
  await cluster.node(DC1).send(user, domain, body);
  await user.waitFor(before + 1, 15_000);
  expect(user.bodies().at(-1)).toBe(`echo: ${body}`);
}

describe('rotating the JWT key', () => {
  it('accepts tokens of both keys while the previous key is configured, and only the new key after', async () => {
    const early = await login('early', OLD_JWT_SECRET);
    expect(await loginOutcome('ann', NEW_JWT_SECRET)).toBe('not-authorized');

    await publish((doc) => {
      doc.auth.jwt = { ...doc.auth.jwt, secret: NEW_JWT_SECRET, previousSecret: OLD_JWT_SECRET };
    });
    expect(await loginOutcome('bea', OLD_JWT_SECRET)).toBe('accepted');
    expect(await loginOutcome('cid', NEW_JWT_SECRET)).toBe('accepted');
    // Tells the operator whether tokens of the old key are still in use.
    expect(await cluster.node(DC1).metric('meridian_c2s_previous_key_logins_total')).toBe(1);
    expect(await loginOutcome('dan', 'x'.repeat(40))).toBe('not-authorized');

    await publish((doc) => {
      doc.auth.jwt = { ...doc.auth.jwt, secret: NEW_JWT_SECRET };
      delete doc.auth.jwt.previousSecret;
    });
    expect(await loginOutcome('eve', OLD_JWT_SECRET)).toBe('not-authorized');
    expect(await loginOutcome('fay', NEW_JWT_SECRET)).toBe('accepted');

    // A session opened before the rotation is not ended by it.
    expect(early.online).toBe(true);
    expect(early.errors).toEqual([]);
  });
});

describe('rotating a component secret', () => {
  it('keeps connected components through the rotation, takes both secrets, and closes only the old one at the end', async () => {
    const user = await cluster.node(DC1).login('user@example.com/r');
    const single = await component('single.example.com', OLD_SECRET);
    const poolOld = await component('pool.example.com', OLD_SECRET);
    await answers(user, 'single.example.com', 'before');

    await publish((doc) => {
      doc.components = doc.components.map((c) => ({
        ...c,
        secret: NEW_SECRET,
        previousSecret: OLD_SECRET,
      }));
    });
    // Nothing connected with the old secret is closed by the start of the rotation.
    await answers(user, 'single.example.com', 'during');
    expect(single.errors).toEqual([]);
    expect(poolOld.errors).toEqual([]);
    // New handshakes take either secret, and still refuse any other.
    const poolNew = await component('pool.example.com', NEW_SECRET);
    expect(await refusal(component('pool.example.com', OLD_SECRET))).toBe('accepted');
    expect(await refusal(component('pool.example.com', WRONG_SECRET))).toBe('not-authorized');

    await publish((doc) => {
      doc.components = doc.components.map(({ previousSecret: _ended, ...c }) => c);
    });
    // Streams that proved the old secret end; the one on the new secret stays.
    expect(await single.waitForError(15_000)).toBe('not-authorized');
    expect(await poolOld.waitForError(15_000)).toBe('not-authorized');
    await answers(user, 'pool.example.com', 'after');
    expect(poolNew.errors).toEqual([]);
    expect(await refusal(component('pool.example.com', OLD_SECRET))).toBe('not-authorized');

    // The component moved to the new secret is welcome again.
    await until(
      async () => (await cluster.redis.client.get('single.example.com')) === null,
      15_000,
      'single.example.com released',
    );
    await component('single.example.com', NEW_SECRET);
    await answers(user, 'single.example.com', 'again');
  });
});
