// The dedicated pub/sub connection for `meridian:config` and `meridian:domains` (a subscribed
// Redis connection can issue no other command). Notices only speed things up: polling heals
// whatever is missed, so a broken subscriber is logged once and otherwise tolerated.
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG_CHANNEL, DOMAINS_CHANNEL } from '#redis-keys';
import type { Redis } from 'ioredis';
import { ROUTER_ENV, type RouterEnv } from '../env/router-env';
import { RedisConnection } from '../redis/redis-connection';

export interface NoticeHandlers {
  onConfigNotice(message: string): void;
  onDomainNotice(message: string): void;
  /** The connection came back (and resubscribed): notices may have been missed. */
  onResubscribed(): void;
}

@Injectable()
export class ConfigSubscriber {
  private readonly logger = new Logger(ConfigSubscriber.name);
  private client: Redis | null = null;
  private broken = false;

  constructor(
    @Inject(ROUTER_ENV) private readonly env: RouterEnv,
    private readonly redis: RedisConnection,
  ) {}

  /** Subscribes to both channels; resolves once Redis confirmed the subscription. */
  async start(handlers: NoticeHandlers): Promise<void> {
    if (this.client) return;
    const client = this.redis.client.duplicate({
      connectionName: `meridian-router-notices:${this.env.localHost}:${this.env.node}`,
    });
    this.client = client;
    client.on('message', (channel: string, message: string) => {
      if (channel === CONFIG_CHANNEL) handlers.onConfigNotice(message);
      else if (channel === DOMAINS_CHANNEL) handlers.onDomainNotice(message);
    });
    client.on('error', (err: Error) => {
      if (!this.broken) this.logger.warn(`notices unavailable, relying on polling: ${err.message}`);
      this.broken = true;
    });
    client.on('ready', () => {
      if (!this.broken) return;
      this.broken = false;
      this.logger.log('notices restored');
      handlers.onResubscribed();
    });
    await client.subscribe(CONFIG_CHANNEL, DOMAINS_CHANNEL);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (!client) return;
    if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
    else client.disconnect();
  }
}
