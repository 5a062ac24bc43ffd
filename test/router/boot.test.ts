// The router boots in-process against the real Redis once a configuration revision is there,
// and answers its health and metrics endpoints; an unreachable Redis or a taken HTTP port
// fails the boot with a clear message. Configuration sync itself: config-sync.test.ts.
import { INestApplication } from '@nestjs/common';
import { AddressInfo, createServer, Server } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BootError } from '../../apps/router/src/boot/boot-error';
import { startRouter } from '../../apps/router/src/boot/start-router';
import { parseRouterEnv, RouterEnv } from '../../apps/router/src/env/router-env';
import { leaseRedisDatabase, type TestRedis } from '../support/redis';
import { publishRevision } from './config-sync-support';

let redis: TestRedis;

beforeAll(async () => {
  redis = await leaseRedisDatabase();
  // A router starts only once a revision naming its datacenter is in Redis.
  await publishRevision(redis.client, 1, {
    globalHost: 'boot.test',
    datacenters: [{ localHost: 'dc1.boot.test' }],
  });
});
afterAll(async () => {
  await redis?.release();
});

function testEnv(overrides: Record<string, string> = {}): RouterEnv {
  return parseRouterEnv(
    {
      MERIDIAN_LOCAL_HOST: 'dc1.boot.test',
      MERIDIAN_NODE: 'boot-test',
      REDIS_URL: redis.url,
      HTTP_PORT: '0',
      // Ephemeral listeners: test files run in parallel, each with routers of its own.
      C2S_PORT: '0',
      COMPONENT_PORT: '0',
      INTERLINK_LISTEN: '127.0.0.1:0',
      LOG_LEVEL: 'silent',
      ...overrides,
    },
    { hostname: 'test', pid: process.pid, isReadableFile: () => false },
  );
}

describe('router boot', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await startRouter(testEnv());
  });

  afterAll(async () => {
    await app?.close();
  });

  it('is live', async () => {
    const response = await request(app.getHttpServer()).get('/health/live').expect(200);
    expect(response.body).toMatchObject({ status: 'ok' });
  });

  it('is ready: Redis answers and the revision found at boot is applied', async () => {
    const response = await request(app.getHttpServer()).get('/health/ready').expect(200);
    expect(response.body).toMatchObject({
      status: 'ok',
      details: {
        redis: { status: 'up' },
        config: { status: 'up', revision: 1, domainSeq: 0 },
      },
    });
  });

  it('serves Prometheus default metrics', async () => {
    const response = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.text).toContain('process_cpu_user_seconds_total');
    expect(response.text).toContain('nodejs_eventloop_lag_seconds');
  });
});

describe('router boot without Redis', () => {
  it('gives up after REDIS_BOOT_TIMEOUT_MS with a message naming the setting', async () => {
    // Nothing listens on port 1.
    const env = testEnv({ REDIS_URL: 'redis://127.0.0.1:1/15', REDIS_BOOT_TIMEOUT_MS: '300' });
    const boot = startRouter(env);
    await expect(boot).rejects.toBeInstanceOf(BootError);
    await expect(boot).rejects.toThrow(
      /^REDIS_URL: no answer from Redis at 127\.0\.0\.1:1\/15 within 300 ms: .*ECONNREFUSED/,
    );
  });
});

describe('router boot on a taken port', () => {
  let blocker: Server;

  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve));
  });

  it('fails with a message naming the setting and the port', async () => {
    const { port } = blocker.address() as AddressInfo;
    const boot = startRouter(testEnv({ HTTP_PORT: String(port) }));
    // Redis and the revision are there: the port is what fails.
    await expect(boot).rejects.toBeInstanceOf(BootError);
    await expect(boot).rejects.toThrow(`HTTP_PORT: port ${port} is already in use`);
  });
});
