// Several instances of one component domain (components[].balancing): `random` shares the
// traffic and survives an instance leaving, `bareSource` keeps each sender on one instance,
// the domain is registered once per node and leaves Redis with the last instance, and an
// instance on the sender's own node is preferred to one elsewhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeDomainsKey } from '#redis-keys';
import { connectComponent, refusal, type ComponentPeer } from '../support/component-peer';
import { startCluster, until, type Cluster, type TestSession } from '../support/router-cluster';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
const SECRET = 'component-secret-1';

let cluster: Cluster;
const peers: ComponentPeer[] = [];

async function instance(localHost: string, node: string, domain: string): Promise<ComponentPeer> {
  const peer = await connectComponent(cluster.node(localHost, node), domain, SECRET);
  peers.push(peer);
  return peer;
}

async function users(localHost: string, node: string, prefix: string, count: number) {
  const routerNode = cluster.node(localHost, node);
  const sessions: TestSession[] = [];
  for (let i = 0; i < count; i++)
    sessions.push(await routerNode.login(`${prefix}${i}@example.com/r`));
  return sessions;
}

beforeAll(async () => {
  cluster = await startCluster({ [DC1]: ['n1', 'n2'], [DC2]: ['n1'] }, (doc) => {
    doc.components = [
      { domain: 'pool.example.com', secret: SECRET, hidden: false, balancing: 'random' },
      { domain: 'near.example.com', secret: SECRET, hidden: false, balancing: 'random' },
      { domain: 'sticky.example.com', secret: SECRET, hidden: false, balancing: 'bareSource' },
      { domain: 'switch.example.com', secret: SECRET, hidden: false, balancing: 'random' },
      { domain: 'regional.example.com', secret: SECRET, hidden: false, balancing: 'random' },
    ];
  });
});
afterAll(async () => {
  await Promise.all(peers.map((peer) => peer.stop()));
  await cluster?.close();
});

describe('balancing: random', () => {
  it('shares the traffic between two instances on one node; one leaving leaves the other serving', async () => {
    const a = await instance(DC1, 'n1', 'pool.example.com');
    const b = await instance(DC1, 'n1', 'pool.example.com');
    const node = cluster.node(DC1, 'n1');
    // One registration for the domain on the node, whatever the number of instances.
    expect(await cluster.redis.client.smembers(nodeDomainsKey(DC1, 'n1'))).toEqual([
      'pool.example.com',
    ]);
    expect(await node.metric('meridian_component_sessions')).toBe(2);

    const senders = await users(DC2, 'n1', 'pool', 40);
    for (const [i, sender] of senders.entries()) {
      await cluster.node(DC2, 'n1').send(sender, 'pool.example.com', `m${i}`);
    }
    await Promise.all(senders.map((s) => s.waitFor(1)));
    expect(a.received.length + b.received.length).toBe(40);
    expect(a.received.length).toBeGreaterThan(0);
    expect(b.received.length).toBeGreaterThan(0);

    await a.stop();
    await until(
      async () => (await node.metric('meridian_component_sessions')) === 1,
      5_000,
      'a gone',
    );
    // b still serves: the domain stays in Redis and every message reaches b.
    expect(await cluster.redis.client.get('pool.example.com')).toBe(DC1);
    const bBefore = b.received.length;
    for (const [i, sender] of senders.slice(0, 10).entries()) {
      await cluster.node(DC2, 'n1').send(sender, 'pool.example.com', `after${i}`);
    }
    await Promise.all(senders.slice(0, 10).map((s) => s.waitFor(2)));
    expect(b.received.length - bBefore).toBe(10);
    for (const sender of senders.slice(0, 10)) {
      expect(sender.bodies()[1]).toMatch(/^echo: after\d+$/);
    }

    await b.stop();
    await until(
      async () => (await cluster.redis.client.get('pool.example.com')) === null,
      5_000,
      'domain gone with the last instance',
    );
  });

  it('prefers an instance on the sender’s own node to one elsewhere', async () => {
    const local = await instance(DC2, 'n1', 'near.example.com');
    const remote = await instance(DC1, 'n1', 'near.example.com');
    const near = await users(DC2, 'n1', 'near', 10);
    for (const sender of near) await cluster.node(DC2, 'n1').send(sender, 'near.example.com', 'hi');
    await Promise.all(near.map((s) => s.waitFor(1)));
    expect(local.received).toHaveLength(10);
    const far = await users(DC1, 'n1', 'far', 10);
    for (const sender of far) await cluster.node(DC1, 'n1').send(sender, 'near.example.com', 'hi');
    await Promise.all(far.map((s) => s.waitFor(1)));
    expect(remote.received).toHaveLength(10);
    expect(local.received).toHaveLength(10);
  });
});

describe('balancing across nodes and datacenters', () => {
  it('prefers an instance in the sender’s datacenter to the one the domain mapping names', async () => {
    const here = await instance(DC1, 'n2', 'regional.example.com');
    const there = await instance(DC2, 'n1', 'regional.example.com');
    // The last registration wrote the mapping: it names dc2.
    expect(await cluster.redis.client.get('regional.example.com')).toBe(DC2);
    const dc1Users = await users(DC1, 'n1', 'regional', 5);
    for (const sender of dc1Users)
      await cluster.node(DC1, 'n1').send(sender, 'regional.example.com', 'hi');
    await Promise.all(dc1Users.map((s) => s.waitFor(1)));
    expect(here.received).toHaveLength(5);
    expect(there.received).toHaveLength(0);

    // Its dc1 instance gone, dc1 users are served by dc2.
    await here.stop();
    await until(
      async () =>
        !(await cluster.redis.client.smembers(nodeDomainsKey(DC1, 'n2'))).includes(
          'regional.example.com',
        ),
      5_000,
      'dc1 instance gone',
    );
    for (const sender of dc1Users)
      await cluster.node(DC1, 'n1').send(sender, 'regional.example.com', 'again');
    await Promise.all(dc1Users.map((s) => s.waitFor(2)));
    expect(there.received).toHaveLength(5);
    expect(dc1Users.map((s) => s.bodies()[1])).toEqual(Array(5).fill('echo: again'));
  });
});

describe('balancing: bareSource', () => {
  it('keeps each sender on one instance and spreads senders over both', async () => {
    const s1 = await instance(DC1, 'n1', 'sticky.example.com');
    const s2 = await instance(DC1, 'n1', 'sticky.example.com');
    const senders = [
      ...(await users(DC1, 'n1', 'local', 10)),
      ...(await users(DC2, 'n1', 'remote', 10)),
    ];
    for (let round = 0; round < 5; round++) {
      for (const sender of senders) {
        const node = sender.jid.local.startsWith('local')
          ? cluster.node(DC1, 'n1')
          : cluster.node(DC2, 'n1');
        // Another resource of the same account too: the bare JID is what sticks.
        const from = round % 2 === 0 ? sender : `${sender.jid.local}@example.com/other`;
        await node.send(from, 'sticky.example.com', `r${round}`);
      }
    }
    await until(
      () => s1.received.length + s2.received.length === 100,
      10_000,
      'all 100 messages at the instances',
    );
    const holder = new Map<string, Set<string>>();
    for (const [name, peer] of [
      ['s1', s1],
      ['s2', s2],
    ] as const) {
      for (const stanza of peer.received) {
        const bare = stanza.attrs.from!.split('/')[0]!;
        const set = holder.get(bare) ?? new Set<string>();
        set.add(name);
        holder.set(bare, set);
      }
    }
    expect(holder.size).toBe(20);
    for (const [, instances] of holder) expect(instances.size).toBe(1);
    expect(s1.received.length).toBeGreaterThan(0);
    expect(s2.received.length).toBeGreaterThan(0);
  });
});

describe('balancing turned off by a revision', () => {
  it('keeps the oldest instance and ends the others with conflict; a new one is refused', async () => {
    const oldest = await instance(DC1, 'n2', 'switch.example.com');
    const younger = await instance(DC1, 'n2', 'switch.example.com');
    await cluster.publish((doc) => {
      const entry = doc.components.find((c) => c.domain === 'switch.example.com')!;
      delete entry.balancing;
    });
    expect(await younger.waitForError()).toBe('conflict');
    expect(oldest.errors).toEqual([]);
    await until(
      async () =>
        (await refusal(connectComponent(cluster.node(DC1, 'n2'), 'switch.example.com', SECRET))) ===
        'conflict',
      5_000,
      'a third instance refused',
    );
    const [sender] = await users(DC2, 'n1', 'switch', 1);
    await cluster.node(DC2, 'n1').send(sender!, 'switch.example.com', 'who serves?');
    await sender!.waitFor(1);
    expect(oldest.received.length).toBeGreaterThan(0);
  });
});
