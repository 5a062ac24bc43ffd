// Every redis.refreshAfterS: rewrite this node's heartbeat, endpoints, session and domain keys
// before they expire, and remove the dead nodes of this datacenter (MongooseIM's
// mod_global_distrib_mapping refresher, plus node liveness). A new redis.* policy refreshes at
// once and restarts the period, so no key outlives a shortened expiry or misses a longer one.
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { NodeRegistry } from './node-registry';
import { SessionStore } from './session-store';
import { SessionTablePolicy } from './session-table-policy';
import { SessionTableRedis } from './session-table-redis';

/** After a failed refresh (Redis down) the next try comes sooner than a whole period. */
export const RETRY_AFTER_FAILURE_MS = 2_000;

@Injectable()
export class SessionRefresher implements OnApplicationBootstrap {
  private readonly logger = new Logger(SessionRefresher.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private rerun = false;
  private stopped = true;
  private failing = false;
  /** Live nodes of this datacenter at the previous refresh, to notice the ones that vanish. */
  private lastLiveNodes: ReadonlySet<string> = new Set();

  constructor(
    private readonly policy: SessionTablePolicy,
    private readonly registry: NodeRegistry,
    private readonly store: SessionStore,
    redis: SessionTableRedis,
  ) {
    policy.onChange(({ redis: changed }) => {
      if (changed) this.refreshNow();
    });
    // Redis back after an outage or a restart (empty, without persistence): our keys may be
    // gone, and the other nodes' caches were just dropped, so rewrite them now.
    redis.onRestored(() => this.refreshNow());
  }

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.schedule(this.periodMs());
  }

  /** Runs a refresh now (or right after the one in progress), then every period again. */
  refreshNow(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.refresh().finally(() => {
      this.running = null;
      if (this.rerun) {
        this.rerun = false;
        this.refreshNow();
      } else {
        this.schedule(
          this.failing ? Math.min(RETRY_AFTER_FAILURE_MS, this.periodMs()) : this.periodMs(),
        );
      }
    });
  }

  /** No more refreshes; resolves once the one in progress (if any) is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    // unref: a pending refresh alone does not keep the process (or a test run) alive.
    this.timer = setTimeout(() => this.refreshNow(), delayMs).unref();
  }

  private periodMs(): number {
    return this.policy.redis.refreshAfterS * 1000;
  }

  private async refresh(): Promise<void> {
    try {
      await this.registry.register();
      const reaped = await this.registry.reapDeadNodes();
      await this.store.refresh();
      const live = await this.registry.liveNodesHere();
      const vanished = [...this.lastLiveNodes].filter((node) => !live.has(node));
      this.lastLiveNodes = live;
      if (reaped.length > 0 || vanished.length > 0) {
        const removed = await this.store.sweepDeadResources(live);
        if (removed > 0) this.logger.log(`Removed ${removed} resource entries of dead nodes`);
      }
      if (this.failing) this.logger.log('Session table refresh succeeded again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) {
        const message = err instanceof Error ? err.message : String(err);
        this.logger.warn(`Session table refresh failed, retrying: ${message}`);
      }
      this.failing = true;
    }
  }
}
