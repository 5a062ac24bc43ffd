// The checks behind GET /health/ready (ARCHITECTURE §10).
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { RouterConfig } from '../config-sync';
import { RedisConnection } from '../redis/redis-connection';

/** Readiness probes come every few seconds; a slow Redis must not hold them longer than this. */
export const REDIS_PING_TIMEOUT_MS = 1_000;

@Injectable()
export class ReadinessIndicators {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisConnection,
    private readonly routerConfig: RouterConfig,
  ) {}

  async redisReachable() {
    const indicator = this.indicators.check('redis');
    // While disconnected ioredis would queue the PING; answer at once instead.
    if (!this.redis.isReady) return indicator.down(`not connected (${this.redis.client.status})`);
    return indicator
      .attempt(async () => {
        await this.redis.client.ping();
      })
      .withTimeout(REDIS_PING_TIMEOUT_MS);
  }

  /** Boot holds until a revision is applied, so this is down only while the boot waits. */
  configApplied() {
    const indicator = this.indicators.check('config');
    if (!this.routerConfig.applied) return indicator.down('not yet applied');
    const { revision, domainSeq } = this.routerConfig.snapshot;
    return indicator.up({ revision, domainSeq });
  }
}
