import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import type { ControlEnv } from '../env/control-env';
import { CONTROL_ENV } from '../env/env.module';

export interface RedisTarget {
  /** `primary`, or the datacenter named in REDIS_URLS. */
  readonly name: string;
  readonly client: Redis;
}

/**
 * The Redis servers control writes to. Commands fail fast while a server is down (no offline
 * queue): the outbox retries pushes later, and reads answer 503 instead of hanging.
 */
@Injectable()
export class RedisTargets implements OnModuleDestroy {
  private readonly logger = new Logger(RedisTargets.name);
  readonly primary: RedisTarget;
  readonly all: readonly RedisTarget[];

  constructor(@Inject(CONTROL_ENV) env: ControlEnv) {
    this.primary = { name: 'primary', client: this.connect('primary', env.redisUrl) };
    this.all = [
      this.primary,
      ...[...env.redisUrls].map(([name, url]) => ({ name, client: this.connect(name, url) })),
    ];
  }

  private connect(name: string, url: string): Redis {
    const client = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2000),
    });
    let down = false;
    client.on('error', (error: Error) => {
      if (!down) this.logger.warn(`redis ${name} unavailable: ${error.message}`);
      down = true;
    });
    client.on('ready', () => {
      if (down) this.logger.log(`redis ${name} is back`);
      down = false;
    });
    return client;
  }

  onModuleDestroy(): void {
    for (const target of this.all) target.client.disconnect();
  }
}
