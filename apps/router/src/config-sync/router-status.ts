// This router's line in `GET /v1/routers`: a RouterStatusRecord at
// `meridian:router:<localHost>:<node>` with a short TTL, so a router that dies silently
// disappears. Written at once after each apply or refusal, every few seconds as a
// heartbeat, and when Redis comes back; deleted on graceful shutdown.
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigFieldError } from '#config';
import { routerStatusKey, type RouterStatusRecord } from '#redis-keys';
import { ROUTER_ENV, type RouterEnv } from '../env/router-env';
import { RedisConnection } from '../redis/redis-connection';
import { RouterConfig } from './router-config';
import { SingleFlight } from '#common';

export const STATUS_TTL_S = 60;
export const STATUS_HEARTBEAT_MS = 5_000;
/** Domain events move the reported seq hundreds of times a second; report it this often. */
export const DOMAIN_SEQ_REPORT_MS = 1_000;

interface Refusal {
  readonly rejectedRevision: number;
  readonly error: string;
  readonly errors: readonly ConfigFieldError[];
}

@Injectable()
export class RouterStatus {
  private readonly logger = new Logger(RouterStatus.name);
  private readonly startedAt = new Date().toISOString();
  private readonly key: string;
  private refusal: Refusal | null = null;
  private sessions: number | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private domainReport: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastFailure: string | null = null;
  private readonly writer = new SingleFlight(() => this.write());

  constructor(
    @Inject(ROUTER_ENV) private readonly env: RouterEnv,
    private readonly redis: RedisConnection,
    private readonly routerConfig: RouterConfig,
  ) {
    this.key = routerStatusKey(env.localHost, env.node);
  }

  /** Sessions held by this node, shown by control; reported with the next heartbeat. */
  setSessionCount(sessions: number): void {
    this.sessions = sessions;
  }

  /** The revision in force is the newest seen. */
  ack(): void {
    this.refusal = null;
    this.writeNow();
  }

  /** `revision` was refused; the one in force stays. */
  nack(revision: number, error: string, errors: readonly ConfigFieldError[]): void {
    this.refusal = { rejectedRevision: revision, error, errors };
    this.writeNow();
  }

  /** The domain seq moved: reported within DOMAIN_SEQ_REPORT_MS, not once per event. */
  domainsMoved(): void {
    if (this.domainReport || this.stopped || !this.heartbeat) return;
    this.domainReport = setTimeout(() => {
      this.domainReport = undefined;
      this.writeNow();
    }, DOMAIN_SEQ_REPORT_MS);
    this.domainReport.unref();
  }

  record(now = new Date()): RouterStatusRecord {
    const config = this.routerConfig;
    return {
      node: this.env.node,
      localHost: this.env.localHost,
      revision: config.applied ? config.snapshot.revision : 0,
      domainSeq: config.domainSeq,
      status: this.refusal ? 'nack' : 'ack',
      ...(this.refusal ?? {}),
      startedAt: this.startedAt,
      heartbeatAt: now.toISOString(),
      ...(this.sessions === undefined ? {} : { sessions: this.sessions }),
    };
  }

  /** Writes now and every STATUS_HEARTBEAT_MS until stop(). */
  start(): void {
    if (this.heartbeat || this.stopped) return;
    this.heartbeat = setInterval(() => this.writeNow(), STATUS_HEARTBEAT_MS);
    this.heartbeat.unref();
    this.writeNow();
  }

  writeNow(): void {
    if (this.stopped || !this.heartbeat) return;
    this.writer.kick().catch(() => undefined);
  }

  /** Stops the heartbeat and removes the record (graceful shutdown). */
  async stop(): Promise<void> {
    const wasRunning = this.heartbeat !== undefined;
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.domainReport);
    await this.writer.idle();
    if (wasRunning && this.redis.isReady) {
      await this.redis.client.del(this.key).catch(() => undefined);
    }
  }

  private async write(): Promise<void> {
    // While Redis is away ioredis would queue the write; the heartbeat after it returns does it.
    if (this.stopped || !this.redis.isReady) return;
    try {
      await this.redis.client.set(this.key, JSON.stringify(this.record()), 'EX', STATUS_TTL_S);
      if (this.lastFailure) this.logger.log('router status written again');
      this.lastFailure = null;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (this.lastFailure !== message) this.logger.warn(`router status not written: ${message}`);
      this.lastFailure = message;
    }
  }
}
