// External components (XEP-0114) with a real component library (@xmpp/component): reached from
// users on every datacenter and node, talking to each other across datacenters, their domain
// in the session table while they are online; refusals (secret, domain, conflict, spoofed
// from, bad XML, limits) and revision changes. Users are in-process test sessions.
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Element } from 'ltx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeDomainsKey } from '#redis-keys';
import {
  ACCEPT_HEADER,
  componentPort,
  connectComponent,
  rawExchange,
  refusal,
  xml,
  type ComponentPeer,
} from '../support/component-peer';
import { BootError } from '../../apps/router/src/boot/boot-error';
import { startRouter } from '../../apps/router/src/boot/start-router';
import { RouterConfig } from '../../apps/router/src/config-sync';
import { parseRouterEnv } from '../../apps/router/src/env/router-env';
import { freePort, startCluster, until, type Cluster } from '../support/router-cluster';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
const SECRET = 'component-secret-1';

const COMPONENTS = [
  'echo.example.com',
  'svc1.example.com',
  'svc2.example.com',
  'gone.example.com',
  'solo.example.com',
  'hidden.example.com',
  'spoof.example.com',
  'removed.example.com',
  'rekeyed.example.com',
  'mrm.example.com',
  'broken.example.com',
];

let cluster: Cluster;
const peers: ComponentPeer[] = [];

async function online(
  localHost: string,
  node: string,
  domain: string,
  secret = SECRET,
  echo = true,
): Promise<ComponentPeer> {
  const peer = await connectComponent(cluster.node(localHost, node), domain, secret, { echo });
  peers.push(peer);
  return peer;
}

async function applied(revision: number): Promise<void> {
  for (const node of cluster.nodes) {
    const config = node.app.get(RouterConfig);
    await until(() => config.snapshot.revision === revision, 5_000, 'revision applied');
  }
}

beforeAll(async () => {
  cluster = await startCluster({ [DC1]: ['n1', 'n2'], [DC2]: ['n1'] }, (doc) => {
    doc.components = COMPONENTS.map((domain) => ({
      domain,
      secret: SECRET,
      hidden: domain.startsWith('hidden.'),
    }));
    doc.limits.authTimeoutS = 1;
  });
});
afterAll(async () => {
  await Promise.all(peers.map((peer) => peer.stop()));
  await cluster?.close();
});

describe('a component reached from every datacenter', () => {
  it('answers users on its node, another node of its datacenter, and the other datacenter', async () => {
    const echo = await online(DC1, 'n1', 'echo.example.com');
    expect(await cluster.redis.client.get('echo.example.com')).toBe(DC1);
    expect(await cluster.redis.client.smembers(nodeDomainsKey(DC1, 'n1'))).toContain(
      'echo.example.com',
    );

    const users = [
      {
        node: cluster.node(DC1, 'n1'),
        session: await cluster.node(DC1, 'n1').login('u1@example.com/a'),
      },
      {
        node: cluster.node(DC1, 'n2'),
        session: await cluster.node(DC1, 'n2').login('u2@example.com/a'),
      },
      {
        node: cluster.node(DC2, 'n1'),
        session: await cluster.node(DC2, 'n1').login('u3@example.com/a'),
      },
    ];
    for (const [index, { node, session }] of users.entries()) {
      await node.send(session, 'echo.example.com', `hello ${index}`);
      await session.waitFor(1);
      expect(session.bodies()).toEqual([`echo: hello ${index}`]);
      expect(session.received[0]!.attrs.from).toBe('echo.example.com');
    }
    expect(echo.received.map((s) => s.attrs.from).sort()).toEqual([
      'u1@example.com/a',
      'u2@example.com/a',
      'u3@example.com/a',
    ]);
    // Stanzas reach the component in its own namespace, not marked jabber:client.
    expect(echo.received[0]!.attrs.xmlns).toBeUndefined();
  });

  it('owns every JID at its domain: a room-like address is routed to it and answers from there', async () => {
    const carol = await cluster.node(DC2, 'n1').login('carol@example.com/x');
    await cluster.node(DC2, 'n1').send(carol, 'room1@echo.example.com/nick', 'to the room');
    await carol.waitFor(1);
    expect(carol.bodies()).toEqual(['echo: to the room']);
    expect(carol.received[0]!.attrs.from).toBe('room1@echo.example.com/nick');
  });

  it('answers an iq sent to a JID at its domain itself, not the server for an account', async () => {
    const echo = peers.find((p) => p.domain === 'echo.example.com')!;
    echo.xmpp.on('stanza', (stanza: Element) => {
      if (stanza.name !== 'iq' || stanza.attrs.type !== 'get') return;
      void echo.xmpp.send(
        xml('iq', {
          type: 'result',
          id: stanza.attrs.id!,
          from: stanza.attrs.to!,
          to: stanza.attrs.from!,
        }),
      );
    });
    const dave = await cluster.node(DC1, 'n2').login('dave@example.com/x');
    const iq = new Element('iq', {
      type: 'get',
      id: 'q1',
      from: 'dave@example.com/x',
      to: 'room2@echo.example.com',
    });
    iq.c('query', { xmlns: 'http://jabber.org/protocol/disco#info' });
    await cluster.node(DC1, 'n2').router.route(iq);
    await dave.waitFor(1);
    expect(dave.received[0]!.attrs).toMatchObject({
      type: 'result',
      id: 'q1',
      from: 'room2@echo.example.com',
    });
  });

  it('carries stanzas in the component namespace to the component and as plain stanzas from it', async () => {
    const echo = peers.find((p) => p.domain === 'echo.example.com')!;
    const kate = await cluster.node(DC1, 'n1').login('kate@example.com/x');
    const before = echo.received.length;
    const stanza = new Element('message', {
      xmlns: 'jabber:client',
      from: 'kate@example.com/x',
      to: 'echo.example.com',
      type: 'chat',
    });
    stanza.c('body').t('ns');
    await cluster.node(DC1, 'n1').router.route(stanza);
    await kate.waitFor(1);
    expect(echo.received[before]!.attrs.xmlns).toBeUndefined();
    await echo.send(
      xml(
        'message',
        { xmlns: 'jabber:component:accept', from: 'echo.example.com', to: 'kate@example.com/x' },
        xml('body', {}, 'explicit'),
      ),
    );
    await kate.waitFor(2);
    expect(kate.received[1]!.attrs.xmlns).toBeUndefined();
    expect(kate.bodies()[1]).toBe('explicit');
  });

  it('lets components in different datacenters talk to each other', async () => {
    const svc1 = await online(DC1, 'n2', 'svc1.example.com', SECRET, false);
    const svc2 = await online(DC2, 'n1', 'svc2.example.com');
    await svc1.send(
      xml(
        'message',
        { from: 'bot@svc1.example.com', to: 'svc2.example.com', type: 'chat' },
        xml('body', {}, 'ping'),
      ),
    );
    await svc2.waitFor(1);
    expect(svc2.received[0]!.attrs.from).toBe('bot@svc1.example.com');
    await svc1.waitFor(1);
    expect(svc1.bodies()).toEqual(['echo: ping']);
    expect(svc1.received[0]!.attrs).toMatchObject({
      from: 'svc2.example.com',
      to: 'bot@svc1.example.com',
    });
  });

  it('keeps a hidden component routable', async () => {
    await online(DC2, 'n1', 'hidden.example.com');
    const erin = await cluster.node(DC1, 'n1').login('erin@example.com/x');
    await cluster.node(DC1, 'n1').send(erin, 'hidden.example.com', 'psst');
    await erin.waitFor(1);
    expect(erin.bodies()).toEqual(['echo: psst']);
  });
});

describe('a component going away', () => {
  it('takes its domain out of Redis, and a message to it then gets service-unavailable', async () => {
    const gone = await online(DC1, 'n1', 'gone.example.com');
    const frank = await cluster.node(DC2, 'n1').login('frank@example.com/x');
    await cluster.node(DC2, 'n1').send(frank, 'gone.example.com', 'before');
    await frank.waitFor(1);

    await gone.stop();
    await until(
      async () => (await cluster.redis.client.get('gone.example.com')) === null,
      5_000,
      'domain mapping removed',
    );
    expect(await cluster.redis.client.smembers(nodeDomainsKey(DC1, 'n1'))).not.toContain(
      'gone.example.com',
    );
    const sentAt = Date.now();
    await cluster.node(DC2, 'n1').send(frank, 'gone.example.com', 'after', { id: 'm2' });
    await frank.waitFor(2);
    // Bounce budget of the test cluster: 50+100+200+400 ms of retries.
    expect(Date.now() - sentAt).toBeLessThan(3_000);
    const error = frank.received[1]!;
    expect(error.attrs).toMatchObject({ type: 'error', from: 'gone.example.com', id: 'm2' });
    expect(error.getChild('error')?.getChild('service-unavailable')).toBeDefined();
  });
});

describe('refusals', () => {
  it('refuses a wrong secret with not-authorized', async () => {
    const before = await cluster.node(DC1, 'n1').metric('meridian_component_handshakes_total', {
      result: 'failed',
      reason: 'not-authorized',
    });
    expect(
      await refusal(
        connectComponent(cluster.node(DC1, 'n1'), 'solo.example.com', 'not-the-secret'),
      ),
    ).toBe('not-authorized');
    expect(await cluster.redis.client.get('solo.example.com')).toBeNull();
    expect(
      await cluster.node(DC1, 'n1').metric('meridian_component_handshakes_total', {
        result: 'failed',
        reason: 'not-authorized',
      }),
    ).toBe(before + 1);
  });

  it('refuses a domain that is not a configured component with host-unknown', async () => {
    expect(
      await refusal(connectComponent(cluster.node(DC1, 'n1'), 'nobody.example.com', SECRET)),
    ).toBe('host-unknown');
  });

  it('refuses a second instance without balancing with conflict, on the same node, another node or datacenter; the first keeps serving', async () => {
    const first = await online(DC1, 'n1', 'solo.example.com');
    expect(
      await refusal(connectComponent(cluster.node(DC1, 'n1'), 'solo.example.com', SECRET)),
    ).toBe('conflict');
    expect(
      await refusal(connectComponent(cluster.node(DC1, 'n2'), 'solo.example.com', SECRET)),
    ).toBe('conflict');
    expect(
      await refusal(connectComponent(cluster.node(DC2, 'n1'), 'solo.example.com', SECRET)),
    ).toBe('conflict');
    expect(first.errors).toEqual([]);
    expect(await cluster.redis.client.get('solo.example.com')).toBe(DC1);
    const gina = await cluster.node(DC2, 'n1').login('gina@example.com/x');
    await cluster.node(DC2, 'n1').send(gina, 'solo.example.com', 'still there?');
    await gina.waitFor(1);
    expect(gina.bodies()).toEqual(['echo: still there?']);
  });

  it('ends a component spoofing from for a domain it does not own with invalid-from, and delivers nothing', async () => {
    const spoof = await online(DC1, 'n1', 'spoof.example.com');
    const henry = await cluster.node(DC1, 'n1').login('henry@example.com/x');
    await spoof.send(
      xml(
        'message',
        { from: 'admin@example.com', to: 'henry@example.com/x', type: 'chat' },
        xml('body', {}, 'trust me'),
      ),
    );
    expect(await spoof.waitForError()).toBe('invalid-from');
    await until(
      async () => (await cluster.redis.client.get('spoof.example.com')) === null,
      5_000,
      'spoofing component unregistered',
    );
    expect(henry.received).toEqual([]);
  });

  it('answers malformed XML with not-well-formed, and the router keeps serving', async () => {
    const broken = await online(DC1, 'n1', 'broken.example.com');
    await broken.xmpp.write('<message to="echo.example.com"><body></message>');
    expect(await broken.waitForError()).toBe('not-well-formed');

    const port = componentPort(cluster.node(DC1, 'n1'));
    const bad = await rawExchange(port, [ACCEPT_HEADER('echo.example.com'), '<a><b></a>']);
    expect(bad.closed).toBe(true);
    expect(bad.text).toMatch(/^<\?xml version='1.0'\?><stream:stream [^>]*id='[0-9a-f]{32}'/);
    expect(bad.text).toContain(
      "<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>",
    );
    const garbage = await rawExchange(port, ['\u0000\u0001 not xml at all <<<>']);
    expect(garbage.closed).toBe(true);
    expect(garbage.text).toContain('<stream:error>');

    const ivy = await cluster.node(DC1, 'n1').login('ivy@example.com/x');
    await cluster.node(DC1, 'n1').send(ivy, 'echo.example.com', 'alive?');
    await ivy.waitFor(1);
    expect(ivy.bodies()).toEqual(['echo: alive?']);
  });

  it('bounds what it reads before the handshake, and how long it waits for one', async () => {
    const port = componentPort(cluster.node(DC1, 'n2'));
    const big = await rawExchange(port, [
      ACCEPT_HEADER('echo.example.com'),
      `<handshake>${'a'.repeat(20_000)}</handshake>`,
    ]);
    expect(big.text).toContain('<policy-violation');
    const started = Date.now();
    const idle = await rawExchange(port, [ACCEPT_HEADER('echo.example.com')]);
    expect(idle.closed).toBe(true);
    expect(idle.text).toContain('<connection-timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('refuses a stream in another namespace with invalid-namespace', async () => {
    const port = componentPort(cluster.node(DC2, 'n1'));
    const { text } = await rawExchange(port, [
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='echo.example.com'>",
    ]);
    expect(text).toContain('<invalid-namespace');
  });
});

describe('connections per address', () => {
  it('refuses connections past limits.maxConnectionsPerIp with policy-violation, keeping the others', async () => {
    const node = cluster.node(DC1, 'n1');
    const open = await node.metric('meridian_component_sessions');
    expect(open).toBeGreaterThanOrEqual(2);
    const revision = await cluster.publish((doc) => {
      doc.limits.maxConnectionsPerIp = 2;
    });
    await applied(revision);
    const { text } = await rawExchange(componentPort(node), [ACCEPT_HEADER('echo.example.com')]);
    expect(text).toContain('<policy-violation');
    expect(await node.metric('meridian_component_sessions')).toBe(open);
    await applied(
      await cluster.publish((doc) => {
        doc.limits.maxConnectionsPerIp = 1000;
      }),
    );
  });
});

describe('revision changes', () => {
  it('ends the streams of a removed component with host-unknown and of a changed secret with not-authorized', async () => {
    const removed = await online(DC1, 'n2', 'removed.example.com');
    const rekeyed = await online(DC2, 'n1', 'rekeyed.example.com');
    await cluster.publish((doc) => {
      doc.components = doc.components
        .filter((c) => c.domain !== 'removed.example.com')
        .map((c) => (c.domain === 'rekeyed.example.com' ? { ...c, secret: 'a-new-secret-2' } : c));
    });
    expect(await removed.waitForError()).toBe('host-unknown');
    expect(await rekeyed.waitForError()).toBe('not-authorized');
    await until(
      async () =>
        (await cluster.redis.client.get('removed.example.com')) === null &&
        (await cluster.redis.client.get('rekeyed.example.com')) === null,
      5_000,
      'domains unregistered',
    );
    // With the new secret it is welcome again.
    await online(DC2, 'n1', 'rekeyed.example.com', 'a-new-secret-2');
    expect(await cluster.redis.client.get('rekeyed.example.com')).toBe(DC2);
  });
});

describe('metrics', () => {
  it('counts sessions, handshakes and stanzas both ways', async () => {
    const node = cluster.node(DC1, 'n1');
    const sessions = await node.metric('meridian_component_sessions');
    expect(sessions).toBeGreaterThanOrEqual(2);
    expect(
      await node.metric('meridian_component_handshakes_total', { result: 'ok' }),
    ).toBeGreaterThan(0);
    expect(await node.metric('meridian_component_stanzas_in_total')).toBeGreaterThan(0);
    expect(await node.metric('meridian_component_stanzas_out_total')).toBeGreaterThan(0);
  });
});

describe('shutdown', () => {
  it('ends component streams with system-shutdown and removes their domains', async () => {
    const extra = await cluster.startNode(DC2, 'n9');
    const peer = await online(DC2, 'n9', 'mrm.example.com');
    expect(await cluster.redis.client.get('mrm.example.com')).toBe(DC2);
    cluster.nodes.splice(cluster.nodes.indexOf(extra), 1);
    const closing = extra.close();
    expect(await peer.waitForError()).toBe('system-shutdown');
    await closing;
    expect(await cluster.redis.client.get('mrm.example.com')).toBeNull();
  });
});

describe('boot', () => {
  let blocker: Server;

  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve));
  });

  it('refuses to start when COMPONENT_PORT is taken, naming the setting and the port', async () => {
    const { port } = blocker.address() as AddressInfo;
    const env = parseRouterEnv(
      {
        MERIDIAN_LOCAL_HOST: DC1,
        MERIDIAN_NODE: 'taken',
        REDIS_URL: cluster.redis.url,
        HTTP_PORT: '0',
        C2S_PORT: String(await freePort()),
        COMPONENT_PORT: String(port),
        INTERLINK_LISTEN: `127.0.0.1:${await freePort()}`,
        LOG_LEVEL: 'silent',
      },
      { hostname: 'test', pid: process.pid, isReadableFile: () => false },
    );
    const boot = startRouter(env);
    await expect(boot).rejects.toBeInstanceOf(BootError);
    await expect(boot).rejects.toThrow(`COMPONENT_PORT: port ${port} is already in use`);
  });
});
