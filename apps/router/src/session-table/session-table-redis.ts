// The session table's own Redis connections, duplicated from the router's client:
// - `commands` fails fast: no offline queue, no retry of in-flight commands, a command
//   timeout. While Redis is down a lookup or a login is refused at once instead of waiting
//   in a queue, so an outage never stalls routing (ARCHITECTURE §9).
// - `subscriber` holds the invalidation subscription (a subscribed connection can run
//   nothing else) and reconnects and resubscribes on its own.
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BootError } from '../boot/boot-error';
import { ROUTER_ENV, RouterEnv } from '../env/router-env';
import { RedisConnection } from '../redis/redis-connection';

/** Any single command or pipeline; refreshes of 1,000 sessions take a few ms. */
export const COMMAND_TIMEOUT_MS = 2_000;

@Injectable()
export class SessionTableRedis implements OnModuleInit, OnApplicationShutdown {
  readonly commands: Redis;
  readonly subscriber: Redis;
  private readonly logger = new Logger(SessionTableRedis.name);
  private down = false;
  /** The connection closed since it was last ready (a restarted Redis may have lost our keys). */
  private interrupted = false;
  private shuttingDown = false;
  private readonly restoredListeners: (() => void)[] = [];

  constructor(
    connection: RedisConnection,
    @Inject(ROUTER_ENV) private readonly env: RouterEnv,
  ) {
    const name = `meridian-router:${env.localHost}:${env.node}`;
    this.commands = connection.client.duplicate({
      connectionName: `${name}:session-table`,
      enableOfflineQueue: false,
      // 0: commands in flight when the connection drops are rejected at once, and never
      // replayed later (a replayed DEL could remove a newer session).
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: COMMAND_TIMEOUT_MS,
    });
    this.subscriber = connection.client.duplicate({
      connectionName: `${name}:invalidation`,
      // Subscribing must survive an outage: queued until the connection is back.
      maxRetriesPerRequest: null,
    });
    // Without a listener ioredis prints every failed reconnect; RedisConnection already
    // reports the outage, so this logs only the transitions of the fail-fast connection.
    this.commands.on('error', () => {
      if (!this.down && !this.shuttingDown)
        this.logger.warn('Session table Redis connection lost; lookups fail fast');
      this.down = true;
    });
    this.commands.on('close', () => {
      if (!this.shuttingDown) this.interrupted = true;
    });
    this.commands.on('ready', () => {
      if (this.down) this.logger.log('Session table Redis connection restored');
      this.down = false;
      if (!this.interrupted) return;
      this.interrupted = false;
      for (const listener of this.restoredListeners) listener();
    });
    this.subscriber.on('error', () => undefined);
  }

  /**
   * Called each time the fail-fast connection is ready again after it closed: Redis may have
   * restarted empty, so the refresher rewrites this node's keys at once instead of at its next
   * period (up to redis.refreshAfterS, while every uncached lookup would find nothing).
   */
  onRestored(listener: () => void): void {
    this.restoredListeners.push(listener);
  }

  /** True once shutdown closes the connections (their 'close' is then expected). */
  get closing(): boolean {
    return this.shuttingDown;
  }

  get isReady(): boolean {
    return this.commands.status === 'ready';
  }

  /** The fail-fast connection refuses commands until ready, so boot waits for it. */
  async onModuleInit(): Promise<void> {
    await Promise.all([this.commands, this.subscriber].map((client) => this.ready(client)));
  }

  async onApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all(
      [this.commands, this.subscriber].map((client) =>
        client.status === 'ready'
          ? client.quit().then(
              () => undefined,
              () => client.disconnect(),
            )
          : client.disconnect(),
      ),
    );
  }

  private ready(client: Redis): Promise<void> {
    if (client.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        client.off('ready', onReady);
        reject(
          new BootError(
            `REDIS_URL: the session table's connection got no answer from Redis within ` +
              `${this.env.redisBootTimeoutMs} ms`,
          ),
        );
      }, this.env.redisBootTimeoutMs);
      client.once('ready', onReady);
    });
  }
}
