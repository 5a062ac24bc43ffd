// The router's Redis client. Boot waits a bounded time for it (ARCHITECTURE §1); afterwards
// ioredis reconnects on its own with backoff, and this class logs the transitions (not every
// failed retry) and closes the connection on shutdown.
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import { BootError } from '../boot/boot-error';
import { ROUTER_ENV, RouterEnv } from '../env/router-env';

@Injectable()
export class RedisConnection implements OnModuleInit, OnApplicationShutdown {
  readonly client: Redis;
  private readonly logger = new Logger(RedisConnection.name);
  private lastError: Error | undefined;

  constructor(@Inject(ROUTER_ENV) private readonly env: RouterEnv) {
    this.client = new Redis(env.redisUrl, {
      // Shows up in CLIENT LIST, so an operator can tell which router holds a connection.
      connectionName: `meridian-router:${env.localHost}:${env.node}`,
      connectTimeout: 5_000,
      // Commands issued in the same tick (a burst of lookups, a login's writes) leave in one
      // write; replies come back in order as for any pipeline (Dynomite accepts pipelines).
      enableAutoPipelining: true,
    });
    this.client.on('ready', () => {
      this.logger.log(`Redis ${this.lastError ? 'connection restored' : 'connected'}`);
      this.lastError = undefined;
    });
    this.client.on('error', (err: Error) => {
      if (!this.lastError) this.logger.warn(`Redis unavailable, reconnecting: ${err.message}`);
      this.lastError = err;
    });
  }

  get isReady(): boolean {
    return this.client.status === 'ready';
  }

  /** Holds the boot until Redis answers, or fails it after REDIS_BOOT_TIMEOUT_MS. */
  async onModuleInit(): Promise<void> {
    if (this.isReady) return;
    await new Promise<void>((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        const reason = this.lastError ? `: ${this.lastError.message}` : '';
        reject(
          new BootError(
            `REDIS_URL: no answer from Redis at ${redisEndpoint(this.env.redisUrl)} ` +
              `within ${this.env.redisBootTimeoutMs} ms${reason}`,
          ),
        );
      }, this.env.redisBootTimeoutMs);
      this.client.once('ready', onReady);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.isReady) {
      await this.client.quit().catch(() => this.client.disconnect());
    } else {
      this.client.disconnect();
    }
  }
}

/** host:port/db of a Redis URL, without credentials, for messages. */
export function redisEndpoint(redisUrl: string): string {
  const url = new URL(redisUrl);
  const db = url.pathname.replace(/^\//, '') || '0';
  return `${url.hostname}:${url.port || '6379'}/${db}`;
}
