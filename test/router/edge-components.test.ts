// Real peers on both sides: xmpp.js clients (TCP + STARTTLS + JWT) talking to XEP-0114
// components (@xmpp/component) across two datacenters, the first with two nodes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectComponent, xml, type ComponentPeer } from '../support/component-peer';
import { startCluster, until, type Cluster } from '../support/router-cluster';
import { testTls } from '../support/test-tls';
import { JWT_SECRET, XmppTestClient } from '../support/xmpp-client';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
const SECRET = 'component-secret-of-some-length';

let cluster: Cluster;
const clients: XmppTestClient[] = [];
const components: ComponentPeer[] = [];

beforeAll(async () => {
  cluster = await startCluster(
    { [DC1]: ['n1', 'n2'], [DC2]: ['n1'] },
    (doc) => {
      doc.auth.jwt.secret = JWT_SECRET;
      doc.components = [
        { domain: 'echo.example.com', secret: SECRET, hidden: false },
        { domain: 'bridge.example.com', secret: SECRET, hidden: true },
      ];
    },
    { tls: testTls() },
  );
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  await Promise.all(components.splice(0).map((c) => c.stop()));
});
afterAll(async () => {
  await cluster?.close();
});

async function login(localHost: string, username: string, node?: string): Promise<XmppTestClient> {
  const client = await XmppTestClient.connect({
    port: cluster.node(localHost, node).c2sPort,
    username,
  });
  clients.push(client);
  return client;
}

async function component(localHost: string, domain: string, node?: string): Promise<ComponentPeer> {
  const peer = await connectComponent(cluster.node(localHost, node), domain, SECRET);
  components.push(peer);
  return peer;
}

describe('clients and components', () => {
  it('reaches a component of dc1 from users on both datacenters; replies come from its address', async () => {
    await component(DC1, 'echo.example.com', 'n1');
    const alice = await login(DC1, 'alice', 'n2');
    const bob = await login(DC2, 'bob');
    await alice.message('echo.example.com', 'from alice');
    await bob.message('room@echo.example.com', 'from bob');
    await alice.waitForBodies(1);
    await bob.waitForBodies(1);
    expect(alice.bodies()).toEqual(['echo: from alice']);
    expect(alice.messages()[0]!.attrs.from).toBe('echo.example.com');
    expect(bob.bodies()).toEqual(['echo: from bob']);
    expect(bob.messages()[0]!.attrs.from).toBe('room@echo.example.com');
  });

  it('lets components in different datacenters talk to each other', async () => {
    const echo = await component(DC1, 'echo.example.com');
    const bridge = await component(DC2, 'bridge.example.com');
    await bridge.send(
      xml(
        'message',
        { from: 'bridge.example.com', to: 'echo.example.com' },
        xml('body', {}, 'hello echo'),
      ),
    );
    await echo.waitFor(1);
    expect(echo.received[0]!.attrs.from).toBe('bridge.example.com');
    await bridge.waitFor(1);
    expect(bridge.bodies()).toEqual(['echo: hello echo']);
  });

  it('answers service-unavailable once the component is gone, and its mapping is gone', async () => {
    const echo = await component(DC1, 'echo.example.com');
    expect(await cluster.redis.client.get('echo.example.com')).toBe(DC1);
    await echo.stop();
    await until(
      async () => (await cluster.redis.client.get('echo.example.com')) === null,
      5000,
      'mapping removed',
    );
    const bob = await login(DC2, 'bob2');
    await bob.message('echo.example.com', 'anyone?', { id: 'gone' });
    const error = await bob.waitFor((s) => s.attrs.id === 'gone', 'the error', 5000);
    expect(error!.attrs.type).toBe('error');
    expect(error!.getChild('error')!.getChildElements()[0]!.name).toBe('service-unavailable');
  });
});
