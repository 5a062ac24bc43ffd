// The session table against a real Redis: the exact keys of ARCHITECTURE §5, delete-only-if-
// ours, the refresher and node liveness, the cache and its invalidation between nodes, and
// the behaviour while Redis is unreachable. Several router nodes run in this process, each
// with only the session table wired.
import { DynamicModule, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  defaultConfig,
  type CacheDocument,
  type MeridianConfigDocument,
  type RedisPolicyDocument,
} from '#config';
import { jid, type Jid } from '#xmpp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseRouterEnv } from '../../apps/router/src/env/router-env';
import { RouterEnvModule } from '../../apps/router/src/env/router-env.module';
import { GdMetrics } from '../../apps/router/src/metrics/gd-metrics';
import { RedisModule } from '../../apps/router/src/redis/redis.module';
import {
  LOOKUP_TIMEOUT_MS,
  NodeRegistry,
  SessionTable,
  SessionTableModule,
  SessionTableUnavailableError,
} from '../../apps/router/src/session-table';
import { leaseRedisDatabase, type TestRedis } from '../support/redis';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
const ALICE_PHONE = jid('alice', 'example.com', 'phone');
const ALICE_LAPTOP = jid('alice', 'example.com', 'laptop');

let redis: TestRedis;
const running = new Set<TestNode>();

beforeAll(async () => {
  redis = await leaseRedisDatabase();
});

afterAll(async () => {
  await redis?.release();
});

beforeEach(async () => {
  await redis.client.flushdb();
});

afterEach(async () => {
  await Promise.all([...running].map((node) => node.close()));
});

@Module({})
class SessionTableHost {
  static for(env: ReturnType<typeof parseRouterEnv>): DynamicModule {
    return {
      module: SessionTableHost,
      imports: [RouterEnvModule.forRoot(env), RedisModule, SessionTableModule],
    };
  }
}

interface TestNode {
  readonly name: string;
  readonly table: SessionTable;
  readonly registry: NodeRegistry;
  /** Real Redis reads made by lookups so far. */
  cacheMisses(): Promise<number>;
  fetches(): Promise<number>;
  close(): Promise<void>;
}

interface NodeOptions {
  localHost?: string;
  redisPort?: number;
  advertisePort?: number;
  cache?: Partial<CacheDocument>;
  redis?: Partial<RedisPolicyDocument>;
}

async function startNode(name: string, options: NodeOptions = {}): Promise<TestNode> {
  const env = parseRouterEnv(
    {
      MERIDIAN_LOCAL_HOST: options.localHost ?? DC1,
      MERIDIAN_NODE: name,
      REDIS_URL: `redis://127.0.0.1:${options.redisPort ?? redis.port}/0`,
      REDIS_BOOT_TIMEOUT_MS: '5000',
      INTERLINK_ADVERTISE: `127.0.0.1:${options.advertisePort ?? 7000}`,
      LOG_LEVEL: 'silent',
    },
    { hostname: 'test', pid: process.pid, isReadableFile: () => false },
  );
  const app: INestApplicationContext = await NestFactory.createApplicationContext(
    SessionTableHost.for(env),
    { logger: false, abortOnError: false },
  );
  await app.init();
  const table = app.get(SessionTable);
  if (options.cache || options.redis) table.applyConfig(configWith(options));
  const metrics = app.get(GdMetrics);
  const value = async (counter: typeof metrics.mappingFetches) =>
    (await counter.get()).values[0]?.value ?? 0;
  let closed = false;
  const node: TestNode = {
    name,
    table,
    registry: app.get(NodeRegistry),
    cacheMisses: () => value(metrics.mappingCacheMisses),
    fetches: () => value(metrics.mappingFetches),
    close: async () => {
      if (closed) return;
      closed = true;
      running.delete(node);
      await app.close();
    },
  };
  running.add(node);
  return node;
}

function configWith(options: NodeOptions): MeridianConfigDocument {
  const config = defaultConfig('example.com');
  return {
    ...config,
    cache: { ...config.cache, ...options.cache },
    redis: { ...config.redis, ...options.redis },
  };
}

async function until(
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const where = async (node: TestNode, to: Jid) => (await node.table.lookup(to))?.localHost ?? null;

describe('registration', () => {
  it('writes the full and bare JID, the resource entry and the node entries with their TTLs', async () => {
    const a = await startNode('node-a', {
      redis: { expireAfterS: 30, refreshAfterS: 10 },
      advertisePort: 7001,
    });
    await a.table.registerSession(ALICE_PHONE);
    const c = redis.client;

    expect(await c.get('alice@example.com/phone')).toBe(DC1);
    expect(await c.get('alice@example.com')).toBe(DC1);
    expect(await c.hgetall(`${DC1}#alice@example.com#resources`)).toEqual({ phone: 'node-a' });
    for (const key of [
      'alice@example.com/phone',
      'alice@example.com',
      `${DC1}#alice@example.com#resources`,
    ]) {
      expect(await c.ttl(key)).toBeGreaterThan(28);
      expect(await c.ttl(key)).toBeLessThanOrEqual(30);
    }
    expect(await c.smembers('hosts')).toEqual([DC1]);
    expect(await c.smembers(`${DC1}#{nodes}`)).toEqual(['node-a']);
    expect(await c.smembers(`${DC1}#node-a#{endpoints}`)).toEqual(['127.0.0.1#7001']);
    // Started with the defaults (expireAfterS 120) before the revision applied 30.
    expect(await c.ttl(`${DC1}#node-a#{heartbeat}`)).toBeGreaterThan(0);
    expect(await c.ttl(`${DC1}#node-a#{endpoints}`)).toBeGreaterThan(0);
  });

  it('writes a component domain and the node domains set', async () => {
    const a = await startNode('node-a', { redis: { expireAfterS: 30, refreshAfterS: 10 } });
    await a.table.registerComponentDomain('MUC.example.com');
    expect(await redis.client.get('muc.example.com')).toBe(DC1);
    expect(await redis.client.ttl('muc.example.com')).toBeGreaterThan(28);
    expect(await redis.client.smembers(`${DC1}#node-a#{domains}`)).toEqual(['muc.example.com']);
    await a.table.unregisterComponentDomain('muc.example.com');
    expect(await redis.client.exists('muc.example.com')).toBe(0);
    expect(await redis.client.smembers(`${DC1}#node-a#{domains}`)).toEqual([]);
  });

  it('keeps a component domain another live node of the datacenter still serves', async () => {
    const a = await startNode('node-a');
    const b = await startNode('node-b');
    await a.table.registerComponentDomain('muc.example.com');
    await b.table.registerComponentDomain('muc.example.com');
    await a.table.unregisterComponentDomain('muc.example.com');
    expect(await redis.client.get('muc.example.com')).toBe(DC1);
    await b.table.unregisterComponentDomain('muc.example.com');
    expect(await redis.client.exists('muc.example.com')).toBe(0);
  });
});

describe('logout', () => {
  it('deletes the keys still ours', async () => {
    const a = await startNode('node-a');
    await a.table.registerSession(ALICE_PHONE);
    await a.table.unregisterSession(ALICE_PHONE);
    expect(await redis.client.exists('alice@example.com/phone', 'alice@example.com')).toBe(0);
    expect(await redis.client.hgetall(`${DC1}#alice@example.com#resources`)).toEqual({});
  });

  it('writes back, soon after a login, the keys a racing logout of the same JID deleted', async () => {
    // The user moved from node-a to node-b; node-a's logout read the keys before node-b wrote
    // them and deleted them after (read-then-delete, no MULTI or Lua on Dynomite).
    const b = await startNode('node-b');
    await b.table.registerSession(ALICE_PHONE, { replacing: true });
    await redis.client.del('alice@example.com/phone', 'alice@example.com');
    await redis.client.hdel(`${DC1}#alice@example.com#resources`, 'phone');
    await until(async () => (await redis.client.get('alice@example.com/phone')) === DC1, 5_000);
    expect(await redis.client.get('alice@example.com')).toBe(DC1);
    expect(await redis.client.hget(`${DC1}#alice@example.com#resources`, 'phone')).toBe('node-b');
  });

  it('leaves a newer registration elsewhere alone when it checks its keys after a login', async () => {
    const b = await startNode('node-b');
    await b.table.registerSession(ALICE_PHONE, { replacing: true });
    // Logged in at dc2 since: that value is newer than ours and must stay.
    await redis.client.set('alice@example.com/phone', DC2, 'EX', 120);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await redis.client.get('alice@example.com/phone')).toBe(DC2);
  });

  it("leaves another datacenter's newer value alone", async () => {
    const a = await startNode('node-a');
    await a.table.registerSession(ALICE_PHONE);
    // The same full JID logged in at dc2 since (its router wrote the keys).
    await redis.client.set('alice@example.com/phone', DC2, 'EX', 120);
    await redis.client.set('alice@example.com', DC2, 'EX', 120);
    await a.table.unregisterSession(ALICE_PHONE);
    expect(await redis.client.get('alice@example.com/phone')).toBe(DC2);
    expect(await redis.client.get('alice@example.com')).toBe(DC2);
  });

  it('leaves a resource taken over by another node of the datacenter alone', async () => {
    const a = await startNode('node-a');
    const b = await startNode('node-b');
    await a.table.registerSession(ALICE_PHONE);
    await b.table.registerSession(ALICE_PHONE);
    await a.table.unregisterSession(ALICE_PHONE);
    expect(await redis.client.get('alice@example.com/phone')).toBe(DC1);
    expect(await redis.client.get('alice@example.com')).toBe(DC1);
    expect(await redis.client.hgetall(`${DC1}#alice@example.com#resources`)).toEqual({
      phone: 'node-b',
    });
  });

  it('keeps the bare JID while a live node of the datacenter has another resource', async () => {
    const a = await startNode('node-a');
    const b = await startNode('node-b');
    await a.table.registerSession(ALICE_PHONE);
    await b.table.registerSession(ALICE_LAPTOP);
    await a.table.unregisterSession(ALICE_PHONE);
    expect(await redis.client.exists('alice@example.com/phone')).toBe(0);
    expect(await redis.client.get('alice@example.com')).toBe(DC1);
    await b.table.unregisterSession(ALICE_LAPTOP);
    expect(await redis.client.exists('alice@example.com')).toBe(0);
  });

  it('keeps the keys while a replacing session of the same full JID is registered on this node', async () => {
    const a = await startNode('node-a');
    await a.table.registerSession(ALICE_PHONE);
    await a.table.registerSession(ALICE_PHONE); // the new session, before the old one leaves
    await a.table.unregisterSession(ALICE_PHONE);
    expect(await redis.client.get('alice@example.com/phone')).toBe(DC1);
  });
});

describe('refresher and node liveness', () => {
  it('rewrites the session, domain and node keys before they expire', async () => {
    const a = await startNode('node-a', { redis: { expireAfterS: 30, refreshAfterS: 1 } });
    await a.table.registerSession(ALICE_PHONE);
    await a.table.registerComponentDomain('muc.example.com');
    const keys = [
      'alice@example.com/phone',
      'alice@example.com',
      `${DC1}#alice@example.com#resources`,
      'muc.example.com',
      `${DC1}#node-a#{domains}`,
      `${DC1}#node-a#{heartbeat}`,
      `${DC1}#node-a#{endpoints}`,
    ];
    for (const key of keys) await redis.client.expire(key, 5);
    await until(async () => {
      const ttls = await Promise.all(keys.map((key) => redis.client.ttl(key)));
      return ttls.every((ttl) => ttl > 25);
    });
  });

  it('brings back its own node entries after they were removed', async () => {
    const a = await startNode('node-a', { redis: { expireAfterS: 30, refreshAfterS: 1 } });
    await redis.client.srem(`${DC1}#{nodes}`, 'node-a');
    await redis.client.del(`${DC1}#node-a#{heartbeat}`, `${DC1}#node-a#{endpoints}`);
    await until(async () => (await redis.client.sismember(`${DC1}#{nodes}`, 'node-a')) === 1);
    expect(await a.registry.endpointsOfNode(DC1, 'node-a')).toEqual([
      { host: '127.0.0.1', port: 7000 },
    ]);
  });

  it('removes a node whose heartbeat is gone, with its endpoints and domains sets', async () => {
    const a = await startNode('node-a', { redis: { expireAfterS: 30, refreshAfterS: 1 } });
    const b = await startNode('node-b', { advertisePort: 7002 });
    await b.table.registerComponentDomain('pubsub.example.com');
    await b.table.registerSession(ALICE_LAPTOP);
    await a.table.registerSession(ALICE_PHONE);
    expect((await a.registry.endpointsOf(DC1)).map(({ node }) => node)).toEqual([
      'node-a',
      'node-b',
    ]);

    await redis.client.del(`${DC1}#node-b#{heartbeat}`); // node-b died: its heartbeat expired
    expect((await a.registry.endpointsOf(DC1)).map(({ node }) => node)).toEqual(['node-a']);
    expect(await a.registry.endpointsOfNode(DC1, 'node-b')).toEqual([]);
    await until(async () => (await redis.client.sismember(`${DC1}#{nodes}`, 'node-b')) === 0);
    expect(await redis.client.exists(`${DC1}#node-b#{endpoints}`, `${DC1}#node-b#{domains}`)).toBe(
      0,
    );
    // Its resource entry in a hash node-a keeps alive is swept.
    await until(
      async () =>
        (await redis.client.hexists(`${DC1}#alice@example.com#resources`, 'laptop')) === 0,
    );
    expect(await redis.client.hget(`${DC1}#alice@example.com#resources`, 'phone')).toBe('node-a');
    await b.close();
  });

  it('lists the endpoints of live nodes of another datacenter', async () => {
    await startNode('node-x', { localHost: DC2, advertisePort: 7100 });
    const a = await startNode('node-a');
    expect(await a.registry.endpointsOf(DC2)).toEqual([
      { node: 'node-x', host: '127.0.0.1', port: 7100 },
    ]);
    expect(await a.registry.endpointsOf('dc9.example.com')).toEqual([]);
    expect(await redis.client.smembers('hosts')).toEqual(expect.arrayContaining([DC1, DC2]));
  });
});

describe('lookup', () => {
  it('answers a full JID, then its bare JID, a bare JID, and a domain by the component mapping', async () => {
    const a = await startNode('node-a');
    await redis.client.set('bob@example.com', DC2);
    await redis.client.set('carol@example.com/desk', DC2);
    await redis.client.set('carol@example.com', DC1);
    await redis.client.set('muc.example.com', DC2);
    expect(await where(a, jid('bob', 'example.com', 'anything'))).toBe(DC2);
    expect(await where(a, jid('carol', 'example.com', 'desk'))).toBe(DC2);
    expect(await where(a, jid('carol', 'example.com'))).toBe(DC1);
    expect(await where(a, jid('', 'muc.example.com'))).toBe(DC2);
    expect(await where(a, jid('', 'muc.example.com', 'room'))).toBe(DC2);
    expect(await where(a, jid('dave', 'example.com', 'x'))).toBeNull();
  });

  it('counts every lookup and reads Redis only on a cache miss', async () => {
    const a = await startNode('node-a', { cache: { jidLifetimeS: 60 } });
    await redis.client.set('bob@example.com/r', DC2);
    expect(await where(a, jid('bob', 'example.com', 'r'))).toBe(DC2);
    expect(await where(a, jid('bob', 'example.com', 'r'))).toBe(DC2);
    expect(await where(a, jid('bob', 'example.com', 'r'))).toBe(DC2);
    expect(await a.fetches()).toBe(3);
    expect(await a.cacheMisses()).toBe(1);
  });

  it('caches a miss for jidLifetimeS, then reads Redis again', async () => {
    const a = await startNode('node-a', { cache: { jidLifetimeS: 1, domainLifetimeS: 600 } });
    expect(await where(a, jid('', 'irc.example.com'))).toBeNull();
    expect(await where(a, jid('bob', 'example.com'))).toBeNull();
    // Written behind the node's back (no notice): only the lifetime can reveal it.
    await redis.client.set('irc.example.com', DC2);
    await redis.client.set('bob@example.com', DC2);
    expect(await where(a, jid('', 'irc.example.com'))).toBeNull();
    expect(await where(a, jid('bob', 'example.com'))).toBeNull();
    expect(await a.cacheMisses()).toBe(2);
    await sleep(1_050);
    expect(await where(a, jid('', 'irc.example.com'))).toBe(DC2);
    expect(await where(a, jid('bob', 'example.com'))).toBe(DC2);
  });

  it('learns the origin of a stanza into the cache only', async () => {
    const a = await startNode('node-a', { cache: { jidLifetimeS: 60 } });
    a.table.learnOrigin(jid('erin', 'example.com', 'tablet'), DC2);
    expect(await where(a, jid('erin', 'example.com', 'tablet'))).toBe(DC2);
    expect(await where(a, jid('erin', 'example.com'))).toBe(DC2);
    expect(await a.cacheMisses()).toBe(0);
    expect(await redis.client.exists('erin@example.com/tablet', 'erin@example.com')).toBe(0);
    a.table.forget(jid('erin', 'example.com', 'tablet'));
    expect(await where(a, jid('erin', 'example.com'))).toBeNull();
    expect(await a.cacheMisses()).toBe(1);
  });

  it('finds the node of this datacenter holding a session, ignoring a dead one', async () => {
    const a = await startNode('node-a');
    const b = await startNode('node-b', { cache: { jidLifetimeS: 0 } });
    await a.table.registerSession(ALICE_PHONE);
    expect(await b.table.nodeOf(ALICE_PHONE)).toBe('node-a');
    expect(await b.table.nodeOf(ALICE_LAPTOP)).toBeNull();
    expect(await b.table.nodeOf(jid('alice', 'example.com'))).toBeNull();
    await redis.client.del(`${DC1}#node-a#{heartbeat}`);
    await until(async () => (await b.table.nodeOf(ALICE_PHONE)) === null, 3_000);
  });
});

describe('invalidation between nodes', () => {
  it('a login elsewhere drops the cached miss at once', async () => {
    const a = await startNode('node-a');
    const b = await startNode('node-b', { cache: { jidLifetimeS: 600 } });
    expect(await where(b, ALICE_PHONE)).toBeNull();
    await a.table.registerSession(ALICE_PHONE);
    await until(async () => (await where(b, ALICE_PHONE)) === DC1, 1_000);
  });

  it('a logout or a component leaving elsewhere drops the cached mapping at once', async () => {
    const a = await startNode('node-a');
    const b = await startNode('node-b', { cache: { jidLifetimeS: 600, domainLifetimeS: 600 } });
    await a.table.registerSession(ALICE_PHONE);
    await a.table.registerComponentDomain('muc.example.com');
    expect(await where(b, ALICE_PHONE)).toBe(DC1);
    expect(await where(b, jid('', 'muc.example.com'))).toBe(DC1);
    await a.table.unregisterSession(ALICE_PHONE);
    await a.table.unregisterComponentDomain('muc.example.com');
    await until(async () => (await where(b, ALICE_PHONE)) === null, 1_000);
    await until(async () => (await where(b, jid('', 'muc.example.com'))) === null, 1_000);
  });
});

describe('with Redis unreachable', () => {
  let proxy: TcpProxy;

  beforeEach(async () => {
    proxy = await startTcpProxy('127.0.0.1', redis.port);
  });

  afterEach(async () => {
    await Promise.all([...running].map((node) => node.close()));
    await proxy.close();
  });

  it('answers cached lookups, fails uncached ones fast, refuses logins, and recovers', async () => {
    const a = await startNode('node-a', { redisPort: proxy.port, cache: { jidLifetimeS: 600 } });
    await redis.client.set('bob@example.com', DC2);
    expect(await where(a, jid('bob', 'example.com'))).toBe(DC2);

    proxy.cut();
    await sleep(50);
    expect(await where(a, jid('bob', 'example.com'))).toBe(DC2);

    const started = performance.now();
    await expect(a.table.lookup(jid('carol', 'example.com'))).rejects.toBeInstanceOf(
      SessionTableUnavailableError,
    );
    await expect(a.table.nodeOf(jid('carol', 'example.com', 'r'))).rejects.toBeInstanceOf(
      SessionTableUnavailableError,
    );
    expect(performance.now() - started).toBeLessThan(200);
    await expect(a.table.registerSession(ALICE_PHONE)).rejects.toBeInstanceOf(
      SessionTableUnavailableError,
    );

    proxy.restore();
    await redis.client.set('carol@example.com', DC1);
    await until(async () => {
      try {
        return (await where(a, jid('carol', 'example.com'))) === DC1;
      } catch {
        return false;
      }
    }, 10_000);
    // The failed login left nothing behind for the refresher to write back.
    expect(await redis.client.exists('alice@example.com/phone')).toBe(0);
  });

  it('fails a lookup fast at the first attempt after the connection drops', async () => {
    const a = await startNode('node-a', { redisPort: proxy.port });
    proxy.cut();
    const started = performance.now();
    await expect(a.table.lookup(jid('dave', 'example.com'))).rejects.toBeInstanceOf(
      SessionTableUnavailableError,
    );
    expect(performance.now() - started).toBeLessThan(200);
    proxy.restore();
  });
});

describe('with Redis stuck', () => {
  it('gives up on an uncached lookup after LOOKUP_TIMEOUT_MS', async () => {
    const a = await startNode('node-a');
    await redis.client.call('CLIENT', 'PAUSE', '1500');
    const started = performance.now();
    await expect(a.table.lookup(jid('dave', 'example.com'))).rejects.toBeInstanceOf(
      SessionTableUnavailableError,
    );
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(LOOKUP_TIMEOUT_MS - 5);
    expect(elapsed).toBeLessThan(1_000); // well before Redis answers again
    await sleep(1_500 - elapsed); // let the pause end before the node stops
  });
});

describe('stop', () => {
  it('removes its own session, domain and node entries and tells the other nodes', async () => {
    const a = await startNode('node-a');
    const b = await startNode('node-b', { cache: { jidLifetimeS: 600 } });
    await a.table.registerSession(ALICE_PHONE);
    await a.table.registerComponentDomain('muc.example.com');
    await b.table.registerSession(jid('bob', 'example.com', 'r'));
    expect(await where(b, ALICE_PHONE)).toBe(DC1);

    await a.table.stop();
    const c = redis.client;
    expect(await c.exists('alice@example.com/phone', 'alice@example.com', 'muc.example.com')).toBe(
      0,
    );
    expect(await c.hgetall(`${DC1}#alice@example.com#resources`)).toEqual({});
    expect(await c.smembers(`${DC1}#{nodes}`)).toEqual(['node-b']);
    expect(
      await c.exists(
        `${DC1}#node-a#{heartbeat}`,
        `${DC1}#node-a#{endpoints}`,
        `${DC1}#node-a#{domains}`,
      ),
    ).toBe(0);
    expect(await c.get('bob@example.com/r')).toBe(DC1);
    await until(async () => (await where(b, ALICE_PHONE)) === null, 1_000);
    await expect(a.table.registerSession(ALICE_LAPTOP)).rejects.toThrow(/stopped/);
  });
});
