// Revisions and domain events reach Redis in order, and survive Redis and PostgreSQL outages.
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, BASE_CONFIG, startControl, type ControlHarness } from '../support/control-app';
import { leaseRedisDatabase } from '../support/redis';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

let control: ControlHarness;
let redisProxy: TcpProxy;
let pgProxy: TcpProxy;
let subscriber: Redis;
const notices: { channel: string; message: string }[] = [];

beforeAll(async () => {
  const redis = await leaseRedisDatabase();
  redisProxy = await startTcpProxy(redis.host, redis.port);
  pgProxy = await startTcpProxy('127.0.0.1', 5432);
  // Control reaches both services through proxies this test can cut; assertions read them
  // directly.
  control = await startControl('publishing', {
    redis,
    pgPort: pgProxy.port,
    redisPort: redisProxy.port,
  });
  subscriber = new Redis(control.redis.url);
  await subscriber.subscribe('meridian:config', 'meridian:domains');
  subscriber.on('message', (channel, message) => notices.push({ channel, message }));
});

afterAll(async () => {
  subscriber?.disconnect();
  await control?.close();
  await redisProxy?.close();
  await pgProxy?.close();
});

async function until(
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const configNotices = () =>
  notices.filter((n) => n.channel === 'meridian:config').map((n) => Number(n.message));

describe('pushing revisions', () => {
  it('writes each revision to Redis and publishes the numbers in order', async () => {
    expect((await control.http.put('/v1/config').set(admin).send(BASE_CONFIG)).status).toBe(200);
    for (const ttl of [5, 6, 7, 8]) {
      const response = await control.http
        .put('/v1/config')
        .set(admin)
        .send({ ...BASE_CONFIG, messageTtl: ttl });
      expect(response.status).toBe(200);
    }
    await until(() => configNotices().length >= 5);
    expect(configNotices()).toEqual([1, 2, 3, 4, 5]);
    const latest = JSON.parse((await control.redis.client.get('meridian:config:latest'))!);
    expect(latest).toMatchObject({
      revision: 5,
      config: { messageTtl: 8, globalHost: 'example.com' },
    });
    const third = JSON.parse((await control.redis.client.get('meridian:config:rev:3'))!);
    expect(third.config.messageTtl).toBe(6);
    const listed = (await control.http.get('/v1/revisions').set(admin)).body.revisions;
    expect(listed.every((r: { pushed: boolean }) => r.pushed)).toBe(true);
  });

  it('keeps committing while Redis is down and pushes the backlog in order when it returns', async () => {
    redisProxy.cut();
    const made: number[] = [];
    for (const ttl of [9, 10, 11]) {
      const response = await control.http
        .put('/v1/config')
        .set(admin)
        .send({ ...BASE_CONFIG, messageTtl: ttl });
      expect(response.status).toBe(200);
      made.push(response.body.revision.number);
    }
    const domain = await control.http
      .put('/v1/domains/outage.test')
      .set(admin)
      .send({ hostType: 'default' });
    expect(domain.status).toBe(201);
    const pending = (await control.http.get('/v1/revisions?limit=3').set(admin)).body.revisions;
    expect(pending.map((r: { pushed: boolean }) => r.pushed)).toEqual([false, false, false]);

    redisProxy.restore();
    await until(() => configNotices().length >= 8);
    expect(configNotices()).toEqual([1, 2, 3, 4, 5, ...made]);
    await until(async () => (await control.redis.client.get('meridian:domains:seq')) === '1');
    expect(await control.redis.client.hget('meridian:domains', 'outage.test')).toBe('default|1');
    const pushed = (await control.http.get('/v1/revisions?limit=3').set(admin)).body.revisions;
    expect(pushed.map((r: { pushed: boolean }) => r.pushed)).toEqual([true, true, true]);
  });

  it('rewrites the configuration and domain set into a Redis that lost its data', async () => {
    await control.redis.client.flushdb();
    await until(async () => (await control.redis.client.exists('meridian:config:latest')) === 1);
    const latest = JSON.parse((await control.redis.client.get('meridian:config:latest'))!);
    expect(latest.revision).toBe(8);
    await until(async () => (await control.redis.client.get('meridian:domains:seq')) === '1');
    expect(await control.redis.client.hgetall('meridian:domains')).toEqual({
      'outage.test': 'default|1',
    });
  });

  it('rewrites the whole domain set before pushing a new event into a Redis that lost it', async () => {
    await control.redis.client.flushdb();
    const created = await control.http
      .put('/v1/domains/after-restart.test')
      .set(admin)
      .send({ hostType: 'default' });
    expect(created.status).toBe(201);
    await control.publisher.flush();
    expect(await control.redis.client.hgetall('meridian:domains')).toEqual({
      'outage.test': 'default|1',
      'after-restart.test': 'default|1',
    });
    expect(await control.redis.client.get('meridian:domains:seq')).toBe('2');
  });
});

describe('PostgreSQL down', () => {
  it('answers 503, writes nothing, and recovers by itself', async () => {
    pgProxy.cut();
    const write = await control.http
      .put('/v1/config')
      .set(admin)
      .send({ ...BASE_CONFIG, messageTtl: 12 });
    expect(write.status).toBe(503);
    expect(write.body.message).toMatch(/database is unavailable/);
    const read = await control.http.get('/v1/config').set(admin);
    expect(read.status).toBe(503);
    const health = await control.http.get('/health');
    expect(health.status).toBe(503);
    expect(health.body.details.postgres.status).toBe('down');

    pgProxy.restore();
    await until(async () => (await control.http.get('/v1/config').set(admin)).status === 200);
    const current = await control.http.get('/v1/config').set(admin);
    expect(current.headers.etag).toBe('"8"');
    expect(current.body.messageTtl).toBe(11);
    const retry = await control.http
      .put('/v1/config')
      .set(admin)
      .send({ ...BASE_CONFIG, messageTtl: 12 });
    expect(retry.status).toBe(200);
    expect(retry.body.revision.number).toBe(9);
  });
});
