// With REDIS_URLS, control writes every push to each datacenter's Redis, because pub/sub
// notices do not replicate across datacenters (ARCHITECTURE §4).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, BASE_CONFIG, startControl, type ControlHarness } from '../support/control-app';
import { leaseRedisDatabase, type TestRedis } from '../support/redis';

let control: ControlHarness;
let dc1: TestRedis;
let dc2: TestRedis;

beforeAll(async () => {
  dc1 = await leaseRedisDatabase();
  dc2 = await leaseRedisDatabase();
  control = await startControl('multi_redis', {
    env: { REDIS_URLS: `dc1.example.com=${dc1.url},dc2.example.com=${dc2.url}` },
  });
});
afterAll(async () => {
  await control?.close();
  await dc1?.release();
  await dc2?.release();
});

describe('one Redis per datacenter', () => {
  it('pushes revisions and domain events to every target and checks each in /health', async () => {
    expect((await control.http.put('/v1/config').set(admin).send(BASE_CONFIG)).status).toBe(200);
    expect(
      (await control.http.put('/v1/domains/tenant.test').set(admin).send({ hostType: 'default' }))
        .status,
    ).toBe(201);
    await control.publisher.flush();
    for (const redis of [control.redis, dc1, dc2]) {
      const latest = JSON.parse((await redis.client.get('meridian:config:latest'))!);
      expect(latest.revision).toBe(1);
      expect(await redis.client.get('meridian:domains:seq')).toBe('1');
      expect(await redis.client.hget('meridian:domains', 'tenant.test')).toBe('default|1');
    }
    const health = await control.http.get('/health');
    expect(health.status).toBe(200);
    expect(Object.keys(health.body.details).sort()).toEqual(
      ['postgres', 'redis', 'redis:dc1.example.com', 'redis:dc2.example.com'].sort(),
    );
  });
});
