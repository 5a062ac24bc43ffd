import { HealthIndicatorService } from '@nestjs/terminus';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '#config';
import { RouterConfig } from '../config-sync';
import { RedisConnection } from '../redis/redis-connection';
import { REDIS_PING_TIMEOUT_MS, ReadinessIndicators } from './readiness.indicators';

function indicatorsWith(redis: { status: string; ping: () => Promise<unknown> }) {
  const connection = { client: redis, isReady: redis.status === 'ready' } as RedisConnection;
  const routerConfig = new RouterConfig();
  const indicators = new ReadinessIndicators(
    new HealthIndicatorService(),
    connection,
    routerConfig,
  );
  return { indicators, routerConfig };
}

describe('ReadinessIndicators', () => {
  it('reports Redis up when PING answers', async () => {
    const { indicators } = indicatorsWith({ status: 'ready', ping: async () => 'PONG' });
    expect(await indicators.redisReachable()).toMatchObject({ redis: { status: 'up' } });
  });

  it('reports Redis down at once while disconnected, without sending a command', async () => {
    const ping = () => Promise.reject(new Error('must not be called'));
    const { indicators } = indicatorsWith({ status: 'reconnecting', ping });
    expect(await indicators.redisReachable()).toEqual({
      redis: { status: 'down', message: 'not connected (reconnecting)' },
    });
  });

  it('reports Redis down when PING fails', async () => {
    const ping = () => Promise.reject(new Error('LOADING Redis is loading the dataset'));
    const { indicators } = indicatorsWith({ status: 'ready', ping });
    expect(await indicators.redisReachable()).toMatchObject({
      redis: { status: 'down', message: 'LOADING Redis is loading the dataset' },
    });
  });

  it('gives up on a PING that hangs', async () => {
    const { indicators } = indicatorsWith({ status: 'ready', ping: () => new Promise(() => {}) });
    const result = await indicators.redisReachable();
    expect(result).toMatchObject({
      redis: { status: 'down', message: `timeout of ${REDIS_PING_TIMEOUT_MS}ms exceeded` },
    });
  });

  it('reports the configuration down until a revision is applied, then its number', () => {
    const { indicators, routerConfig } = indicatorsWith({ status: 'ready', ping: async () => 1 });
    expect(indicators.configApplied()).toEqual({
      config: { status: 'down', message: 'not yet applied' },
    });
    routerConfig.installRevision({ revision: 7, hash: 'h', config: defaultConfig('example.com') });
    expect(indicators.configApplied()).toEqual({
      config: { status: 'up', revision: 7, domainSeq: 0 },
    });
  });
});
