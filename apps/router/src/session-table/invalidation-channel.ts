// Cache invalidation between the nodes sharing a Redis (ARCHITECTURE §12): logins, logouts
// and component (un)registrations are announced on `meridian:invalidate` as
// `{"jids": [...], "origin": "<localHost>#<node>"}` and every node drops those cached
// entries. Best effort: a lost notice is healed by the cache lifetimes, and after the
// subscription was down the whole cache is dropped (any notice may have been missed).
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import {
  decodeInvalidationNotice,
  encodeInvalidationNotice,
  INVALIDATE_CHANNEL,
} from '#redis-keys';
import { TickBatcher } from '#common';
import { ROUTER_ENV, RouterEnv } from '../env/router-env';
import { chunks } from './redis-replies';
import { SessionTableRedis } from './session-table-redis';

/** JIDs per published notice, so a node stopping with many sessions sends bounded messages. */
export const JIDS_PER_NOTICE = 1_000;

export interface InvalidationHandlers {
  /** Drop the cached entries of these JIDs and domains. */
  readonly drop: (jids: readonly string[]) => void;
  /** The subscription was interrupted: notices may have been lost. */
  readonly lost: () => void;
}

@Injectable()
export class InvalidationChannel implements OnModuleInit {
  private readonly logger = new Logger(InvalidationChannel.name);
  private handlers: InvalidationHandlers | null = null;
  private interrupted = false;
  private readonly notices = new TickBatcher<readonly string[]>((lists) => this.publishNow(lists));

  constructor(
    private readonly redis: SessionTableRedis,
    @Inject(ROUTER_ENV) private readonly env: RouterEnv,
  ) {}

  /** One listener: the session table's cache. */
  listen(handlers: InvalidationHandlers): void {
    this.handlers = handlers;
  }

  async onModuleInit(): Promise<void> {
    const subscriber = this.redis.subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== INVALIDATE_CHANNEL) return;
      const notice = decodeInvalidationNotice(message);
      if (notice) this.handlers?.drop(notice.jids);
    });
    subscriber.on('close', () => {
      if (this.redis.closing) return;
      if (!this.interrupted) this.logger.warn('Invalidation subscription interrupted');
      this.interrupted = true;
    });
    // On reconnect ioredis sends SUBSCRIBE again right as it reports ready.
    subscriber.on('ready', () => {
      if (!this.interrupted) return;
      this.interrupted = false;
      this.handlers?.lost();
      this.logger.log('Invalidation subscription restored; cached mappings dropped');
    });
    await subscriber.subscribe(INVALIDATE_CHANNEL);
  }

  /**
   * Announces changed mappings; never rejects (the lifetimes cover a lost notice). The JIDs
   * announced in one event-loop turn (a burst of logins) share notices.
   */
  publish(jids: readonly string[]): Promise<void> {
    return this.notices.add(jids);
  }

  private async publishNow(lists: readonly (readonly string[])[]): Promise<void> {
    const origin = `${this.env.localHost}#${this.env.node}`;
    for (const batch of chunks(lists.flat(), JIDS_PER_NOTICE)) {
      try {
        await this.redis.commands.publish(
          INVALIDATE_CHANNEL,
          encodeInvalidationNotice({ jids: batch, origin }),
        );
      } catch {
        // Redis is down: nobody could read the new mapping anyway, and the lifetimes heal it.
        return;
      }
    }
  }
}
