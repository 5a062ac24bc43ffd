// InterlinkModule as the router wires it: the service resolves with its Redis endpoint source
// and metrics, opens INTERLINK_LISTEN on init, and a taken port fails the boot clearly.
import { Logger, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BootError } from '../../apps/router/src/boot/boot-error';
import { parseRouterEnv, type RouterEnv } from '../../apps/router/src/env/router-env';
import { RouterEnvModule } from '../../apps/router/src/env/router-env.module';
import {
  ENDPOINT_SOURCE,
  InterlinkModule,
  InterlinkService,
  RedisEndpointSource,
} from '../../apps/router/src/interlink';
import { RedisModule } from '../../apps/router/src/redis/redis.module';
import { leaseRedisDatabase, type TestRedis } from '../support/redis';

Logger.overrideLogger(false);
let redis: TestRedis;

beforeAll(async () => {
  redis = await leaseRedisDatabase();
});

afterAll(async () => {
  await redis?.release();
});

function env(listen: string): RouterEnv {
  return parseRouterEnv(
    {
      MERIDIAN_LOCAL_HOST: 'dc1.module.test',
      MERIDIAN_NODE: 'module-test',
      REDIS_URL: redis.url,
      INTERLINK_LISTEN: listen,
      INTERLINK_ADVERTISE: '127.0.0.1:5555',
    },
    { hostname: 'test', pid: process.pid, isReadableFile: () => false },
  );
}

async function boot(routerEnv: RouterEnv): Promise<INestApplicationContext> {
  @Module({ imports: [RouterEnvModule.forRoot(routerEnv), RedisModule, InterlinkModule] })
  class TestRoot {}
  const app = await NestFactory.createApplicationContext(TestRoot, {
    logger: false,
    abortOnError: false,
  });
  try {
    await app.init();
  } catch (err) {
    await app.close();
    throw err;
  }
  return app;
}

describe('InterlinkModule', () => {
  it('resolves the service with the Redis endpoint source and listens on init', async () => {
    const app = await boot(env('127.0.0.1:0'));
    try {
      const service = app.get(InterlinkService);
      expect(app.get(ENDPOINT_SOURCE)).toBeInstanceOf(RedisEndpointSource);
      expect(service.listenAddress).toMatchObject({ host: '127.0.0.1' });
      expect(service.listenAddress!.port).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });

  describe('on a taken port', () => {
    let blocker: Server;
    beforeAll(async () => {
      blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      await new Promise((resolve) => blocker.close(resolve));
    });

    it('fails the boot naming INTERLINK_LISTEN and the port', async () => {
      const { port } = blocker.address() as AddressInfo;
      const booting = boot(env(`127.0.0.1:${port}`));
      await expect(booting).rejects.toBeInstanceOf(BootError);
      await expect(booting).rejects.toThrow(
        `INTERLINK_LISTEN: port ${port} is already in use by another process`,
      );
    });
  });
});
