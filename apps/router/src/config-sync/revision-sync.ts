// Keeps the configuration revision in step with Redis (ARCHITECTURE §4): the latest at boot
// (waiting a bounded time for one), then on each `meridian:config` notice and on a poll of
// `meridian:config:latest` (notices do not cross datacenters). What to apply is RevisionGate's
// call; this is the Redis side, the status and the logs.
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG_LATEST_KEY, configRevisionKey, type PublishedRevision } from '#redis-keys';
import { BootError } from '../boot/boot-error';
import { ROUTER_ENV, type RouterEnv } from '../env/router-env';
import { RedisConnection } from '../redis/redis-connection';
import { DomainSync } from './domain-sync';
import { parsePublishedRevision, RevisionGate, type RevisionVerdict } from './revision-gate';
import { RouterConfig } from './router-config';
import { RouterStatus } from './router-status';
import { SingleFlight } from '#common';

@Injectable()
export class RevisionSync {
  private readonly logger = new Logger(RevisionSync.name);
  private readonly gate: RevisionGate;
  private readonly poller = new SingleFlight(() => this.pollOnce());
  private booted = false;
  /** Wakes the boot wait early when a notice arrives. */
  private wake: (() => void) | null = null;
  private lastProblem: string | null = null;
  /** Last unreadable revision reported, so one bad key is logged once, not on every poll. */
  private lastUnreadable: string | null = null;

  constructor(
    @Inject(ROUTER_ENV) private readonly env: RouterEnv,
    private readonly redis: RedisConnection,
    private readonly routerConfig: RouterConfig,
    private readonly domains: DomainSync,
    private readonly status: RouterStatus,
  ) {
    this.gate = new RevisionGate(env.localHost);
  }

  /**
   * Applies the latest revision, waiting up to CONFIG_BOOT_TIMEOUT_MS for one to exist.
   * BootError when none comes, or when it is invalid or does not list MERIDIAN_LOCAL_HOST:
   * with no revision in force there is nothing to fall back on.
   */
  async boot(): Promise<void> {
    const deadline = Date.now() + this.env.configBootTimeoutMs;
    let announced = false;
    for (;;) {
      const latest = await this.fetch(CONFIG_LATEST_KEY);
      if (latest) {
        this.applyAtBoot(latest);
        this.booted = true;
        return;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new BootError(
          this.lastUnreadable
            ? `no usable configuration revision after ${this.env.configBootTimeoutMs} ms ` +
                `(CONFIG_BOOT_TIMEOUT_MS): ${this.lastUnreadable}`
            : `no configuration revision in Redis (${CONFIG_LATEST_KEY}) after ` +
                `${this.env.configBootTimeoutMs} ms (CONFIG_BOOT_TIMEOUT_MS): create one with ` +
                'control (PUT /v1/config) and check that control and this router share REDIS_URL',
        );
      }
      if (!announced) this.logger.log('waiting for a first configuration revision in Redis');
      announced = true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, this.env.configPollIntervalMs));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = null;
    }
  }

  /** A message from `meridian:config`: the number of a revision just pushed. */
  onNotice(message: string): void {
    if (!this.booted) {
      this.wake?.();
      return;
    }
    const revision = Number(message);
    if (!Number.isSafeInteger(revision) || revision < 1) return;
    if (revision <= this.gate.applied) return;
    this.fetchAndJudge(configRevisionKey(revision)).catch((err) => this.problem(err));
  }

  /** Poll of the latest revision; also after Redis comes back. */
  poll(): void {
    if (!this.booted) return;
    this.poller.kick().catch(() => undefined);
  }

  private async pollOnce(): Promise<void> {
    if (!this.redis.isReady) return;
    try {
      await this.fetchAndJudge(CONFIG_LATEST_KEY);
      this.solved();
    } catch (err) {
      this.problem(err);
    }
  }

  private async fetchAndJudge(key: string): Promise<void> {
    // A notice may name a revision whose key is gone (Redis restarted): latest is as good.
    const published = (await this.fetch(key)) ?? (await this.fetch(CONFIG_LATEST_KEY));
    if (published) this.consider(this.gate.judge(published, this.domains.view));
  }

  private applyAtBoot(published: PublishedRevision): void {
    const verdict = this.gate.judge(published, this.domains.view);
    if (verdict.kind === 'refuse') {
      throw new BootError(
        verdict.localHostMissing
          ? `MERIDIAN_LOCAL_HOST: ${this.env.localHost} is not a datacenter of configuration ` +
              `revision ${verdict.revision} (its datacenters: ` +
              `${datacenterNames(published.config) || 'none'}); add it ` +
              `with control (PUT /v1/datacenters/${this.env.localHost}) or fix the variable`
          : `${verdict.error}; every error:\n` +
              verdict.errors.map((e) => `  - ${e.path || '(document)'}: ${e.message}`).join('\n'),
      );
    }
    this.consider(verdict);
  }

  private consider(verdict: RevisionVerdict): void {
    switch (verdict.kind) {
      case 'ignore':
        return;
      case 'apply': {
        const previous = this.routerConfig.applied ? this.routerConfig.snapshot.revision : 0;
        this.routerConfig.installRevision(verdict);
        this.logger.log(
          previous
            ? `configuration revision ${verdict.revision} applied (was ${previous})`
            : `configuration revision ${verdict.revision} applied`,
        );
        this.status.ack();
        return;
      }
      case 'refuse':
        // A revision judged again (the domain set moved) is logged only the first time.
        if (!verdict.again) {
          this.logger.warn(
            `${verdict.error}; keeping revision ${this.gate.applied} ` +
              `(${verdict.errors.length} error(s) in the router status)`,
          );
        }
        this.status.nack(verdict.revision, verdict.error, verdict.errors);
        return;
    }
  }

  /** The revision at `key`, or null when absent or unreadable (logged once). */
  private async fetch(key: string): Promise<PublishedRevision | null> {
    const raw = await this.redis.client.get(key);
    if (raw === null) return null;
    const parsed = parsePublishedRevision(raw);
    if ('error' in parsed) {
      const message = `${key} is unreadable (${parsed.error}); ignoring it`;
      if (this.lastUnreadable !== message) this.logger.warn(message);
      this.lastUnreadable = message;
      return null;
    }
    if (key === CONFIG_LATEST_KEY) this.lastUnreadable = null;
    return parsed;
  }

  private problem(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (this.lastProblem !== message) this.logger.warn(`configuration sync: ${message}`);
    this.lastProblem = message;
  }

  private solved(): void {
    if (this.lastProblem) this.logger.log('configuration sync resumed');
    this.lastProblem = null;
  }
}

function datacenterNames(config: unknown): string {
  const list = (config as { datacenters?: unknown } | null)?.datacenters;
  if (!Array.isArray(list)) return '';
  return list
    .map((dc) => (dc as { localHost?: unknown } | null)?.localHost)
    .filter((name): name is string => typeof name === 'string')
    .join(', ');
}
