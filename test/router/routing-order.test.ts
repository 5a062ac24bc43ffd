// Order (ARCHITECTURE §6.6) and hop TTL (§6.4) across datacenters, with 100 connections per
// endpoint, and through the bounce queue while the recipient's mapping comes and goes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeInvalidationNotice, INVALIDATE_CHANNEL } from '#redis-keys';
import { parseJid } from '#xmpp';
import { SessionTable } from '../../apps/router/src/session-table/session-table';
import { startCluster, until, type Cluster, type TestSession } from '../support/router-cluster';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
const BOB = 'bob@example.com/laptop';
let cluster: Cluster;
let alice: TestSession;
let bob: TestSession;

beforeAll(async () => {
  cluster = await startCluster({ [DC1]: ['n1'], [DC2]: ['n1'] }, (doc) => {
    doc.connections.connectionsPerEndpoint = 100;
    // The mapping changes only when the test says so (no refresh in between).
    doc.redis = { expireAfterS: 120, refreshAfterS: 60 };
    doc.bounce = { ...doc.bounce, resendAfterMs: 200, maxRetries: 6 };
  });
  alice = await cluster.node(DC1).login('alice@example.com/phone');
  bob = await cluster.node(DC2).login(BOB);
});
afterAll(async () => {
  await cluster?.close();
});

/** What a logout (delete) or login (restore) elsewhere does to bob's mapping, notice included. */
async function setBobMapping(present: boolean): Promise<void> {
  const redis = cluster.redis.client;
  if (present) {
    await redis.set(BOB, DC2, 'EX', 120);
    await redis.set('bob@example.com', DC2, 'EX', 120);
  } else {
    await redis.del(BOB, 'bob@example.com');
  }
  await redis.publish(
    INVALIDATE_CHANNEL,
    encodeInvalidationNotice({ jids: [BOB, 'bob@example.com'], origin: 'test#test' }),
  );
}

const numbers = (session: TestSession) => session.bodies().map(Number);

describe('per-sender order', () => {
  it('keeps 100 stanzas in order over 100 connections per endpoint', async () => {
    bob.received.length = 0;
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => cluster.node(DC1).send(alice, BOB, String(i + 1))),
    );
    await bob.waitFor(100);
    expect(numbers(bob)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('keeps them in order while the mapping is deleted and restored every 9 stanzas', async () => {
    bob.received.length = 0;
    for (let i = 1; i <= 100; i++) {
      if (i % 9 === 0) await setBobMapping(Math.floor(i / 9) % 2 === 0);
      await cluster.node(DC1).send(alice, BOB, String(i));
    }
    await setBobMapping(true);
    await bob.waitFor(100, 15_000);
    expect(numbers(bob)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(alice.errors()).toEqual([]);
  });

  it('holds 99 stanzas in the bounce queue while the mapping is gone, then delivers 1..99 in order', async () => {
    bob.received.length = 0;
    await setBobMapping(false);
    for (let i = 1; i <= 99; i++) await cluster.node(DC1).send(alice, BOB, String(i));
    expect(await cluster.node(DC1).metric('meridian_gd_bounce_queue_size')).toBe(99);
    expect(bob.received).toEqual([]);
    await setBobMapping(true);
    await bob.waitFor(99, 10_000);
    expect(numbers(bob)).toEqual(Array.from({ length: 99 }, (_, i) => i + 1));
    await until(
      async () => (await cluster.node(DC1).metric('meridian_gd_bounce_queue_size')) === 0,
    );
  });
});

describe('hop TTL', () => {
  it('stops a stanza ping-ponging between two datacenters with stale mappings at TTL 0', async () => {
    const ghost = parseJid('ghost@example.com/x')!;
    // Each datacenter believes the other one has the recipient.
    cluster.node(DC1).app.get(SessionTable).learnOrigin(ghost, DC2);
    cluster.node(DC2).app.get(SessionTable).learnOrigin(ghost, DC1);
    const before =
      (await cluster.node(DC1).metric('meridian_gd_stop_ttl_zero_total')) +
      (await cluster.node(DC2).metric('meridian_gd_stop_ttl_zero_total'));
    alice.received.length = 0;
    await cluster.node(DC1).send(alice, 'ghost@example.com/x', 'ping-pong', { id: 'pp' });
    await alice.waitFor(1, 5000);
    expect(alice.received[0]!.attrs).toMatchObject({ type: 'error', id: 'pp' });
    const after =
      (await cluster.node(DC1).metric('meridian_gd_stop_ttl_zero_total')) +
      (await cluster.node(DC2).metric('meridian_gd_stop_ttl_zero_total'));
    expect(after - before).toBe(1);
    // messageTtl 4: dc1 -> dc2 -> dc1 -> dc2 -> dc1, which stops.
    expect(
      await cluster.node(DC1).metric('meridian_gd_stop_ttl_zero_total'),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe('origin learning', () => {
  it('routes a reply back by origin after the sender mapping was deleted from Redis', async () => {
    const carol = await cluster.node(DC1).login('carol@example.com/c');
    const dave = await cluster.node(DC2).login('dave@example.com/d');
    await cluster.node(DC1).send(carol, 'dave@example.com/d', 'hello');
    await dave.waitFor(1);
    await cluster.redis.client.del('carol@example.com/c', 'carol@example.com');
    await cluster.node(DC2).send(dave, 'carol@example.com/c', 'reply');
    await carol.waitFor(1, 2000);
    expect(carol.bodies()).toEqual(['reply']);
  });
});
