// The lifecycle of configuration sync. Boot (onModuleInit, so every module importing
// ConfigSyncModule starts with a snapshot in force): subscribe, load the domain set, apply
// the latest revision or refuse to start. Then: notices, a poll every CONFIG_POLL_INTERVAL_MS,
// a heal when Redis comes back, and the status heartbeat. Shutdown removes the status.
import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { BootError } from '../boot/boot-error';
import { ROUTER_ENV, type RouterEnv } from '../env/router-env';
import { RedisConnection } from '../redis/redis-connection';
import { ConfigSubscriber } from './config-subscriber';
import { DomainSync } from './domain-sync';
import { RevisionSync } from './revision-sync';
import { RouterStatus } from './router-status';

@Injectable()
export class ConfigSyncService implements OnModuleInit, OnModuleDestroy {
  private poll: NodeJS.Timeout | undefined;
  /** Redis (or the notice connection) is back: catch up and say we are alive at once. */
  private readonly heal = () => {
    this.syncNow();
    this.status.writeNow();
  };

  constructor(
    @Inject(ROUTER_ENV) private readonly env: RouterEnv,
    private readonly redis: RedisConnection,
    private readonly subscriber: ConfigSubscriber,
    private readonly domains: DomainSync,
    private readonly revisions: RevisionSync,
    private readonly status: RouterStatus,
  ) {}

  async onModuleInit(): Promise<void> {
    try {
      // Subscribed before loading, so nothing published during the load is missed.
      await withTimeout(
        this.subscriber.start({
          onConfigNotice: (message) => this.revisions.onNotice(message),
          onDomainNotice: (message) => this.domains.onNotice(message),
          onResubscribed: this.heal,
        }),
        this.env.configBootTimeoutMs,
        'no answer to SUBSCRIBE',
      );
      await this.domains.load();
      await this.revisions.boot();
    } catch (err) {
      await this.stop();
      if (err instanceof BootError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new BootError(`cannot load the configuration from Redis: ${reason}`, { cause: err });
    }
    this.status.start();
    this.poll = setInterval(() => this.syncNow(), this.env.configPollIntervalMs);
    this.poll.unref();
    this.redis.client.on('ready', this.heal);
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  /** Reads the latest revision and domain seq now, and refreshes the status. */
  syncNow(): void {
    if (!this.redis.isReady) return;
    this.revisions.poll();
    this.domains.kick();
  }

  private async stop(): Promise<void> {
    clearInterval(this.poll);
    this.poll = undefined;
    this.redis.client.off('ready', this.heal);
    await this.status.stop();
    await this.subscriber.close();
    await this.domains.idle();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
