// A slow Redis (replies held 300 ms to 2 s by a proxy) and a Redis restarted empty, both while
// two datacenters exchange steady traffic. Nothing may be lost silently: every message is
// delivered or its sender gets an error; cached routes keep flowing; new lookups give up
// within the lookup timeout and bounce; the queues stay bounded; recovery needs no restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HOSTS_KEY,
  nodeEndpointsKey,
  nodesKey,
  routerStatusKey,
  CONFIG_LATEST_KEY,
} from '#redis-keys';
import { RouterConfig } from '../../apps/router/src/config-sync/router-config';
import { LOOKUP_TIMEOUT_MS } from '../../apps/router/src/session-table';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { leaseRedisDatabase, type TestRedis } from '../support/redis';
import {
  startCluster,
  TestSession,
  until,
  type Cluster,
  type RouterNode,
} from '../support/router-cluster';
import { fullJid, loginTimed, percentile, TimedSession } from '../support/timed-session';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
const MAX_QUEUED = 40;
const MB = 1024 * 1024;

let redis: TestRedis;
let proxy: FaultProxy;
let cluster: Cluster;
const figures: Record<string, string | number> = {};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const heapMb = () => Math.round(process.memoryUsage().heapUsed / MB);

/** Messages between cached pairs every `periodMs` until stopped; counts what each side saw. */
function steadyTraffic(pairs: [RouterNode, TimedSession, TimedSession][], periodMs: number) {
  let running = true;
  let sent = 0;
  const sentAt = new Map<string, number>();
  const loops = pairs.map(async ([node, from, to]) => {
    for (let n = 0; running; n++) {
      const body = `${from.jid.local}-${n}`;
      sentAt.set(body, Date.now());
      sent++;
      await node.send(from, fullJid(to), body);
      await sleep(periodMs);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { sent, sentAt };
    },
  };
}

/** Delivered and errored among what `senders` sent to `recipients` (bodies are unique). */
function outcome(
  senders: TestSession[],
  recipients: TestSession[],
  sentAt: Map<string, number>,
): { delivered: number; errored: number; latencies: number[] } {
  const latencies: number[] = [];
  let delivered = 0;
  for (const r of recipients as TimedSession[]) {
    r.received.forEach((stanza, i) => {
      const at = sentAt.get(stanza.getChildText('body') ?? '');
      if (at === undefined || stanza.attrs.type === 'error') return;
      delivered++;
      latencies.push(r.arrivals[i]! - at);
    });
  }
  const errored = senders
    .flatMap((s) => s.errors())
    .filter((e) => sentAt.has(e.getChildText('body') ?? '')).length;
  return { delivered, errored, latencies };
}

beforeAll(async () => {
  redis = await leaseRedisDatabase();
  proxy = await startFaultProxy(redis.host, redis.port);
  // The routers reach Redis through the proxy; the test's own client goes straight to it.
  const proxied: TestRedis = { ...redis, url: `redis://127.0.0.1:${proxy.port}/0` };
  cluster = await startCluster(
    { [DC1]: ['n1'], [DC2]: ['n1'] },
    (doc) => {
      doc.cache = { ...doc.cache, jidLifetimeS: 60 };
      doc.bounce = { ...doc.bounce, resendAfterMs: 100, maxRetries: 5, maxQueued: MAX_QUEUED };
      // The production refresh period: a Redis restarted empty must not wait for it.
      doc.redis = { ...doc.redis, expireAfterS: 120, refreshAfterS: 60 };
    },
    { redis: proxied },
  );
});

afterAll(async () => {
  await cluster?.close();
  await proxy?.close();
  await redis?.release();
  console.log(
    `[redis-slow figures] ${Object.entries(figures)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
});

describe('Redis answering slowly (300 ms to 2 s per reply)', () => {
  it('keeps cached routes flowing, bounds new lookups and the queues, and recovers when Redis is fast again', async () => {
    const dc1 = cluster.node(DC1);
    const dc2 = cluster.node(DC2);
    const senders = await Promise.all(
      [1, 2, 3, 4].map((i) => loginTimed(dc1, `s${i}@example.com/a`)),
    );
    const receivers = await Promise.all(
      [1, 2, 3, 4].map((i) => loginTimed(dc2, `r${i}@example.com/b`)),
    );
    // Online at dc2 but never looked up from dc1: reaching them needs Redis.
    const uncached = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((i) => loginTimed(dc2, `fresh${i}@example.com/f`)),
    );
    // Logins write Redis: every sender logs in before Redis slows down.
    const lookupSenders = await Promise.all(
      uncached.map((_, i) => loginTimed(dc1, `asker${i}@example.com/q`)),
    );
    const burstSenders = await Promise.all(
      Array.from({ length: 100 }, (_, i) => loginTimed(dc1, `burst${i}@example.com/x`)),
    );
    const late = await loginTimed(dc1, 'late@example.com/l');
    await sleep(300); // the login notices pass before the routes are cached
    for (const [i, s] of senders.entries()) await dc1.send(s, fullJid(receivers[i]!), 'warm');
    await until(() => receivers.every((r) => r.received.length === 1), 10_000, 'warm-up');
    const missesBefore = await dc1.metric('meridian_gd_mapping_cache_misses_total');
    const heapBefore = heapMb();

    proxy.delayReplies({ min: 300, max: 2000 });
    const slowSince = Date.now();
    const traffic = steadyTraffic(
      senders.map((s, i) => [dc1, s, receivers[i]!]),
      40,
    );

    // New lookups while Redis is slow: to users online at dc2 and to nobody at all, from
    // senders of their own (a sender's stanzas are handled in order, one at a time).
    const routeTimes: number[] = [];
    const lookupSentAt = new Map<string, number>();
    await Promise.all(
      lookupSenders.map(async (s, i) => {
        const body = `lookup-${i}`;
        lookupSentAt.set(body, Date.now());
        const started = Date.now();
        await dc1.send(s, fullJid(uncached[i]!), body);
        routeTimes.push(Date.now() - started);
      }),
    );
    // A burst to unknown recipients, past bounce.maxQueued: the overflow is answered at once.
    const burstSentAt = new Map<string, number>();
    let maxQueueGauge = 0;
    const sampler = setInterval(() => {
      void dc1.metric('meridian_gd_bounce_queue_size').then((v) => {
        maxQueueGauge = Math.max(maxQueueGauge, v);
      });
    }, 20);
    await Promise.all(
      burstSenders.map(async (s, i) => {
        const body = `burst-${i}`;
        burstSentAt.set(body, Date.now());
        const started = Date.now();
        await dc1.send(s, `nobody${i}@example.com/x`, body);
        routeTimes.push(Date.now() - started);
      }),
    );
    expect(dc1.router.bounced).toBeLessThanOrEqual(MAX_QUEUED);

    // Every new lookup ends in a delivery or an error within the bounce schedule:
    // 6 attempts of at most LOOKUP_TIMEOUT_MS plus 100+200+400+800+1600 ms of backoff.
    const answered = () => {
      const lookups = outcome(lookupSenders, uncached, lookupSentAt);
      const burst = outcome(burstSenders, [], burstSentAt);
      return {
        lookups,
        burst,
        done:
          lookups.delivered + lookups.errored === lookupSenders.length &&
          burst.errored === burstSenders.length,
      };
    };
    await until(() => answered().done, 15_000, 'every new lookup answered');
    const answeredAfterMs = Date.now() - slowSince;
    clearInterval(sampler);
    const { lookups, burst } = answered();
    expect(lookups.errored).toBeGreaterThan(0);
    expect(lookups.delivered + lookups.errored).toBe(lookupSenders.length);
    expect(burst.errored).toBe(burstSenders.length);
    // The queue was full once MAX_QUEUED stanzas waited (the lookups' among them).
    const overflow = await dc1.metric('meridian_gd_bounce_failures_total', {
      reason: 'queue-full',
    });
    expect(overflow).toBeGreaterThanOrEqual(burstSenders.length - MAX_QUEUED);
    expect(maxQueueGauge).toBeLessThanOrEqual(MAX_QUEUED);
    // route() never waits on Redis beyond the lookup timeout (it resolves once bounced).
    expect(Math.max(...routeTimes)).toBeLessThan(LOOKUP_TIMEOUT_MS * 12);
    await until(async () => (await dc1.metric('meridian_gd_bounce_queue_size')) === 0, 10_000);

    const { sent, sentAt } = await traffic.stop();
    await until(
      () => {
        const o = outcome(senders, receivers, sentAt);
        return o.delivered + o.errored === sent;
      },
      10_000,
      'the steady traffic delivered',
    );
    const steady = outcome(senders, receivers, sentAt);
    // Cached routes did not wait on Redis: no error, latency well under the injected delay.
    expect(steady.errored).toBe(0);
    expect(steady.delivered).toBe(sent);
    expect(percentile(steady.latencies, 95)).toBeLessThan(300);
    const heapDuring = heapMb();

    // Fast again: new lookups work with no restart.
    proxy.delayReplies(0);
    const fastSince = Date.now();
    await until(() => proxy.heldChunks === 0, 10_000, 'held replies flushed');
    let attempt = 0;
    await until(
      async () => {
        await dc1.send(late, fullJid(uncached[0]!), `after-${attempt++}`);
        await sleep(100);
        return uncached[0]!.bodies().some((b) => b.startsWith('after-'));
      },
      15_000,
      'a new lookup delivered after the delay ends',
    );
    const recoveryMs = Date.now() - fastSince;
    expect(await dc1.metric('meridian_gd_mapping_cache_misses_total')).toBeGreaterThan(
      missesBefore,
    );
    const heapAfter = heapMb();
    expect(heapAfter - heapBefore).toBeLessThan(100);

    Object.assign(figures, {
      slowSent: sent + lookupSenders.length + burstSenders.length,
      slowDelivered: steady.delivered + lookups.delivered,
      slowErrored: steady.errored + lookups.errored + burst.errored,
      cachedP95Ms: percentile(steady.latencies, 95),
      cachedMaxMs: Math.max(...steady.latencies),
      maxRouteMs: Math.max(...routeTimes),
      lookupsAnsweredMs: answeredAfterMs,
      maxBounceQueue: maxQueueGauge,
      queueFullErrors: overflow,
      recoveryMs,
      heapMb: `${heapBefore}/${heapDuring}/${heapAfter}`,
    });
  });
});

describe('Redis restarted empty during steady traffic', () => {
  it('keeps cached routes, rebuilds the table and node entries, and takes a republished revision', async () => {
    proxy.delayReplies(0);
    const dc1 = cluster.node(DC1);
    const dc2 = cluster.node(DC2);
    const alice = await loginTimed(dc1, 'alice@example.com/a');
    const bob = await loginTimed(dc2, 'bob@example.com/b');
    // Online before the restart, never looked up from dc1.
    const carol = await loginTimed(dc2, 'carol@example.com/c');
    await sleep(300);
    await dc1.send(alice, fullJid(bob), 'warm');
    await dc2.send(bob, fullJid(alice), 'warm');
    await until(() => bob.received.length === 1 && alice.received.length === 1, 10_000, 'warm');
    const revision = cluster.revision;

    const traffic = steadyTraffic(
      [
        [dc1, alice, bob],
        [dc2, bob, alice],
      ],
      30,
    );
    await sleep(300);
    const restartedAt = Date.now();
    await redis.restart();

    // The refreshers write back every session and node entry of both datacenters.
    await until(
      async () =>
        (await redis.client.get('carol@example.com/c')) === DC2 &&
        (await redis.client.get('alice@example.com/a')) === DC1 &&
        (await redis.client.sismember(HOSTS_KEY, DC1)) === 1 &&
        (await redis.client.sismember(HOSTS_KEY, DC2)) === 1 &&
        (await redis.client.sismember(nodesKey(DC2), 'n1')) === 1 &&
        (await redis.client.scard(nodeEndpointsKey(DC2, 'n1'))) > 0,
      15_000,
      'session table and node entries rebuilt',
    );
    const tableRebuiltMs = Date.now() - restartedAt;

    // A lookup that needs Redis works again: dc1 finds carol, whom it never looked up.
    const asker = await loginTimed(dc1, 'asker-restart@example.com/q');
    let attempt = 0;
    await until(
      async () => {
        await dc1.send(asker, fullJid(carol), `fresh-${attempt++}`);
        await sleep(100);
        return carol.received.length > 0;
      },
      15_000,
      'a fresh lookup delivered',
    );
    const lookupRecoveredMs = Date.now() - restartedAt;
    // Each attempt before that was delivered or answered with an error, none dropped.
    await until(
      () => carol.received.length + asker.errors().length >= attempt,
      10_000,
      'every attempt answered',
    );

    // The routers kept their revision although Redis lost it; the republished one (control
    // rewrites Redis) applies everywhere; each router's status record is back.
    expect(await redis.client.exists(CONFIG_LATEST_KEY)).toBe(0);
    expect(cluster.nodes.every((n) => n.app.get(RouterConfig).snapshot.revision === revision)).toBe(
      true,
    );
    const next = await cluster.publish((doc) => {
      doc.bounce = { ...doc.bounce, maxRetries: 6 };
    });
    await until(
      () => cluster.nodes.every((n) => n.app.get(RouterConfig).snapshot.revision === next),
      10_000,
      'republished revision applied',
    );
    await until(
      async () =>
        (await redis.client.exists(routerStatusKey(DC1, 'n1'))) === 1 &&
        (await redis.client.exists(routerStatusKey(DC2, 'n1'))) === 1,
      10_000,
      'status records rewritten',
    );

    // A login after the restart is reachable from the other datacenter.
    const dave = await loginTimed(dc2, 'dave@example.com/d');
    await dc1.send(alice, fullJid(dave), 'hello dave');
    await dave.waitFor(1, 10_000);

    // Some steady traffic after all of that too.
    await until(() => Date.now() - restartedAt > 2_000, 5_000);
    const { sent, sentAt } = await traffic.stop();
    await until(
      () => {
        const o = outcome([alice, bob], [alice, bob], sentAt);
        return o.delivered + o.errored === sent;
      },
      10_000,
      'the steady traffic answered',
    );
    const steady = outcome([alice, bob], [alice, bob], sentAt);
    expect(steady.errored).toBe(0);
    expect(steady.delivered).toBe(sent);

    Object.assign(figures, {
      restartSent: sent,
      restartDelivered: steady.delivered,
      restartErrored: steady.errored,
      restartCachedMaxMs: Math.max(...steady.latencies),
      tableRebuiltMs,
      lookupRecoveredMs,
      freshAttempts: attempt,
    });
  });
});
