// Redis outages, policy changes on a running router, graceful stop, and the metrics each
// event moves (ARCHITECTURE §9, §10).
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterConfig } from '../../apps/router/src/config-sync/router-config';
import { InterlinkService } from '../../apps/router/src/interlink/interlink.service';
import { SessionTable } from '../../apps/router/src/session-table/session-table';
import { parseJid } from '#xmpp';
import { startCluster, until, type Cluster, type RouterNode } from '../support/router-cluster';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ [DC1]: ['n1'], [DC2]: ['n1'] }, (doc) => {
    doc.cache = { ...doc.cache, jidLifetimeS: 60 };
    doc.bounce = { ...doc.bounce, resendAfterMs: 200, maxRetries: 6 };
  });
});
afterAll(async () => {
  await cluster?.close();
});

const ready = async (node: RouterNode) =>
  (await request(node.app.getHttpServer()).get('/health/ready')).status;

async function waitForRevision(revision: number): Promise<void> {
  await until(
    () => cluster.nodes.every((n) => n.app.get(RouterConfig).snapshot.revision === revision),
    5000,
    `revision ${revision} applied everywhere`,
  );
}

describe('Redis stopped and started again', () => {
  it('keeps cached routes, bounces new lookups, goes unready and recovers by itself', async () => {
    const alice = await cluster.node(DC1).login('alice@example.com/a');
    const bob = await cluster.node(DC2).login('bob@example.com/b');
    await cluster.node(DC1).send(alice, 'bob@example.com/b', 'first');
    await bob.waitFor(1);
    // Bob's login notice may reach dc1 after that first lookup and drop what it cached; once
    // notices are quiet, the next lookup stays cached.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await cluster.node(DC1).send(alice, 'bob@example.com/b', 'cached now');
    await bob.waitFor(2);
    expect(await ready(cluster.node(DC1))).toBe(200);

    await cluster.redis.stop();
    await cluster.node(DC1).send(alice, 'bob@example.com/b', 'still flowing');
    await bob.waitFor(3, 3000);
    await cluster.node(DC1).send(alice, 'carol@example.com/c', 'for later');
    expect(cluster.node(DC1).router.bounced).toBe(1);
    await until(async () => (await ready(cluster.node(DC1))) === 503, 5000, 'unready');

    await cluster.redis.restart();
    await until(async () => (await ready(cluster.node(DC1))) === 200, 10_000, 'ready again');
    // The restarted Redis is empty: the refresher writes the sessions back.
    await until(
      async () => (await cluster.redis.client.get('bob@example.com/b')) === DC2,
      10_000,
      'bob re-registered',
    );
    const carol = await cluster.node(DC2).login('carol@example.com/c');
    await carol.waitFor(1, 10_000);
    expect(carol.bodies()).toEqual(['for later']);
    expect(alice.errors()).toEqual([]);
  });
});

describe('policy changes on a running router', () => {
  it('applies bounce, cache and connection settings from a new revision', async () => {
    const revision = await cluster.publish((doc) => {
      doc.bounce = { ...doc.bounce, resendAfterMs: 20, maxRetries: 1 };
      doc.connections = { ...doc.connections, connectionsPerEndpoint: 3 };
      doc.cache = { ...doc.cache, jidLifetimeS: 1 };
    });
    await waitForRevision(revision);
    const sender = await cluster.node(DC1).login('policy@example.com/p');
    const started = Date.now();
    await cluster.node(DC1).send(sender, 'nowhere@example.com/x', 'quick error');
    await sender.waitFor(1, 2000);
    expect(Date.now() - started).toBeLessThan(500);

    // Three connections per endpoint now: three senders to dc2 open three.
    const target = await cluster.node(DC2).login('target@example.com/t');
    for (const name of ['s1', 's2', 's3', 's4', 's5', 's6']) {
      const s = await cluster.node(DC1).login(`${name}@example.com/x`);
      await cluster.node(DC1).send(s, 'target@example.com/t', name);
    }
    await target.waitFor(6);
    const toDc2 = cluster
      .node(DC1)
      .app.get(InterlinkService)
      .destinationsInUse()
      .find((d) => d.label.includes(DC2));
    expect(toDc2?.connections).toBe(3);

    // Cache policy: with cacheMissed off, every lookup of an unknown JID reads Redis.
    const table = cluster.node(DC1).app.get(SessionTable);
    const ghost = parseJid('cache-probe@example.com/x')!;
    const misses = () => cluster.node(DC1).metric('meridian_gd_mapping_cache_misses_total');
    const before = await misses();
    await table.lookup(ghost);
    await table.lookup(ghost);
    expect((await misses()) - before).toBe(1); // the miss was cached
    const next = await cluster.publish((doc) => {
      doc.cache = { ...doc.cache, cacheMissed: false };
    });
    await waitForRevision(next);
    const after = await misses();
    await table.lookup(ghost);
    await table.lookup(ghost);
    expect((await misses()) - after).toBe(2);
  });
});

describe('graceful stop', () => {
  it('answers what waits in the bounce queue and removes its own Redis entries', async () => {
    const extra = await cluster.startNode(DC2, 'n2');
    const leaving = await extra.login('leaving@example.com/l');
    await cluster.publish((doc) => {
      doc.bounce = { ...doc.bounce, resendAfterMs: 5000, maxRetries: 4 };
    });
    await until(
      () => extra.app.get(RouterConfig).snapshot.config.bounce.resendAfterMs === 5000,
      5000,
    );
    await extra.send(leaving, 'unknown@example.com/u', 'waiting', { id: 'w1' });
    expect(extra.router.bounced).toBe(1);
    expect(await cluster.redis.client.sismember(`${DC2}#{nodes}`, 'n2')).toBe(1);

    cluster.nodes.splice(cluster.nodes.indexOf(extra), 1);
    await extra.close();
    expect(leaving.errors().map((e) => e.attrs.id)).toEqual(['w1']);
    expect(await cluster.redis.client.sismember(`${DC2}#{nodes}`, 'n2')).toBe(0);
    expect(await cluster.redis.client.get('leaving@example.com/l')).toBeNull();
    expect(await cluster.redis.client.exists(`meridian:router:${DC2}:n2`)).toBe(0);
  });
});

describe('stopping', () => {
  it('answers at once what arrives over the links after the drain, instead of queueing it', async () => {
    const node = await cluster.startNode(DC2, 'late');
    const sender = await cluster.node(DC1).login('late@example.com/l');
    await node.router.drain();
    await node.router.receive({
      ttl: 3,
      origin: DC1,
      stanzaId: 'late-1',
      sentAtUs: Date.now() * 1000,
      senderKey: 'late@example.com/l',
      bounceAttempts: 0,
      targetNode: null,
      stanza:
        "<message from='late@example.com/l' to='gone@example.com/g' id='late-1' type='chat'>" +
        '<body>after the drain</body></message>',
    });
    // Nobody retries a bounce queue on a node that is stopping: no queueing, an error now.
    expect(node.router.bounced).toBe(0);
    await sender.waitFor(1, 3_000);
    expect(sender.errors().map((e) => e.attrs.id)).toEqual(['late-1']);
    cluster.nodes.splice(cluster.nodes.indexOf(node), 1);
    await node.close();
  });
});

describe('metrics', () => {
  it('moves every mod_global_distrib metric and serves them at /metrics', async () => {
    const dc1 = cluster.node(DC1);
    const dc2 = cluster.node(DC2);
    const x = await dc1.login('metrics-x@example.com/x');
    const y = await dc2.login('metrics-y@example.com/y');
    await dc1.send(x, 'metrics-y@example.com/y', 'm');
    await y.waitFor(1);
    expect(await dc1.metric('meridian_gd_outgoing_messages_total', { host: DC2 })).toBeGreaterThan(
      0,
    );
    expect(await dc2.metric('meridian_gd_incoming_messages_total', { host: DC1 })).toBeGreaterThan(
      0,
    );
    expect(
      await dc1.metric('meridian_gd_outgoing_established_total', { host: DC2 }),
    ).toBeGreaterThan(0);
    expect(await dc2.metric('meridian_gd_incoming_established_total')).toBeGreaterThan(0);
    expect(
      await dc2.metric('meridian_gd_incoming_first_packet_total', { host: DC1 }),
    ).toBeGreaterThan(0);
    expect(
      await dc1.metric('meridian_gd_outgoing_queue_seconds_count', { host: DC2 }),
    ).toBeGreaterThan(0);
    expect(
      await dc2.metric('meridian_gd_incoming_transfer_seconds_count', { host: DC1 }),
    ).toBeGreaterThan(0);
    expect(await dc1.metric('meridian_gd_mapping_fetches_total')).toBeGreaterThan(0);
    expect(await dc1.metric('meridian_gd_mapping_cache_misses_total')).toBeGreaterThan(0);
    expect(await dc1.metric('meridian_gd_mapping_fetch_seconds_count')).toBeGreaterThan(0);
    expect(await dc2.metric('meridian_gd_delivered_with_ttl_count')).toBeGreaterThan(0);
    expect(await dc1.metric('meridian_gd_stop_ttl_zero_total')).toBeGreaterThanOrEqual(0);

    // A node of dc2 that dc2's first node talks to, then stops: links close on both sides.
    const n3 = await cluster.startNode(DC2, 'n3');
    const z = await n3.login('metrics-z@example.com/z');
    await dc2.send(y, 'metrics-z@example.com/z', 'to n3');
    await z.waitFor(1);
    cluster.nodes.splice(cluster.nodes.indexOf(n3), 1);
    await n3.close();
    await until(
      async () => (await dc2.metric('meridian_gd_outgoing_closed_total', { host: DC2 })) > 0,
      5000,
      'outgoing closed',
    );
    expect(await n3.metric('meridian_gd_incoming_closed_total')).toBeGreaterThan(0);

    const text = (await request(dc1.app.getHttpServer()).get('/metrics')).text;
    for (const name of [
      'meridian_gd_outgoing_messages_total',
      'meridian_gd_outgoing_queue_seconds',
      'meridian_gd_outgoing_established_total',
      'meridian_gd_outgoing_errored_total',
      'meridian_gd_outgoing_closed_total',
      'meridian_gd_incoming_messages_total',
      'meridian_gd_incoming_transfer_seconds',
      'meridian_gd_incoming_established_total',
      'meridian_gd_incoming_first_packet_total',
      'meridian_gd_incoming_errored_total',
      'meridian_gd_incoming_closed_total',
      'meridian_gd_mapping_fetches_total',
      'meridian_gd_mapping_cache_misses_total',
      'meridian_gd_mapping_fetch_seconds',
      'meridian_gd_delivered_with_ttl',
      'meridian_gd_stop_ttl_zero_total',
      'meridian_gd_bounce_queue_size',
    ]) {
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, 'm'));
    }
    expect(text).toMatch(/^meridian_gd_outgoing_messages_total\{host="dc2\.example\.com"\} \d+$/m);
  });
});
