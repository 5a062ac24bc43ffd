// Keeps the dynamic-domain set in step with Redis (ARCHITECTURE §4b): a chunked full load at
// boot, then every event from `meridian:domains` in seq order; a gap is filled from
// `meridian:domains:events`, or by a full reload when those events are gone; the seq is
// polled so a lost notice heals. The ordering rules are DomainLog's; this is the Redis side.
import { Injectable, Logger } from '@nestjs/common';
import {
  DOMAIN_EVENTS_KEPT,
  DOMAIN_EVENTS_KEY,
  DOMAIN_SEQ_KEY,
  DOMAINS_KEY,
  type PublishedDomainEvent,
} from '#redis-keys';
import { RedisConnection } from '../redis/redis-connection';
import { decodeHashValue, DomainLog, parseDomainNotice } from './domain-log';
import { DomainMapBuilder } from './domain-map';
import { RouterConfig } from './router-config';
import { RouterStatus } from './router-status';
import { SingleFlight } from '#common';

/** Fields per HSCAN round trip of the full load. */
export const HSCAN_COUNT = 5_000;
/** A repair that keeps finding new gaps (events trimmed while it reloads) gives up for a poll. */
const MAX_ROUNDS = 4;

@Injectable()
export class DomainSync {
  private readonly logger = new Logger(DomainSync.name);
  private readonly log = new DomainLog();
  private readonly worker = new SingleFlight(() => this.catchUp());
  private reloadWanted = true;
  private publishScheduled = false;
  /** Last problem logged, so an outage or a lagging Redis is reported once, not per poll. */
  private lastProblem: string | null = null;
  private badNotices = 0;
  private loaded = false;

  constructor(
    private readonly redis: RedisConnection,
    private readonly routerConfig: RouterConfig,
    private readonly status: RouterStatus,
  ) {}

  /** The freshest set (RouterConfig gets it a microtask later): what revisions validate with. */
  get view(): { readonly seq: number; has(domain: string): boolean } {
    const log = this.log;
    return { seq: log.seq, has: (domain) => log.domains.has(domain) };
  }

  /** Boot: the full set, then the events after it. Throws if Redis fails meanwhile. */
  async load(): Promise<void> {
    this.reloadWanted = true;
    await this.worker.kick();
    if (!this.loaded) {
      throw new Error(this.lastProblem ?? 'Redis was not ready to load the domain set');
    }
  }

  /** A message from `meridian:domains`. */
  onNotice(message: string): void {
    const notice = parseDomainNotice(message);
    if (!notice) {
      // Anyone may publish on the channel; count, log the first, never throw.
      if (this.badNotices++ === 0) this.logger.warn(`ignoring a malformed domain notice`);
      return;
    }
    const action = this.log.receive(notice);
    this.publishSoon();
    if (action === 'none') return;
    if (action === 'reload') this.reloadWanted = true;
    this.kick();
  }

  /** Poll: read the seq and repair if behind. Also after Redis comes back. */
  kick(): void {
    this.worker.kick().catch(() => undefined);
  }

  /** Resolves when no load or repair is running (shutdown, tests). */
  idle(): Promise<void> {
    return this.worker.idle();
  }

  private async catchUp(): Promise<void> {
    if (!this.redis.isReady) return;
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        if (this.reloadWanted) {
          this.reloadWanted = false;
          await this.loadAll();
        }
        const target = await this.readSeq();
        if (target < this.log.seq) {
          this.problem(
            `Redis is at domain seq ${target}, behind the ${this.log.seq} applied here ` +
              '(restarted without its data?); keeping this set until control rewrites it',
          );
          return;
        }
        if (target === this.log.seq) break;
        const events =
          target - this.log.seq > DOMAIN_EVENTS_KEPT
            ? []
            : await this.readEventsAfter(this.log.seq, target);
        const from = this.log.seq;
        const outcome = this.log.catchUp(events, target);
        this.publishSoon();
        if (outcome === 'done') {
          this.logger.debug(`domain events ${from + 1}..${this.log.seq} read back from Redis`);
          break;
        }
        this.logger.log(
          `domain events after ${this.log.seq} are no longer in Redis; reloading the whole set`,
        );
        this.reloadWanted = true;
      }
      this.solved();
    } catch (err) {
      this.problem(`domain sync paused: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** HSCAN in chunks: a set of 100,000 domains never travels in one reply. */
  private async loadAll(): Promise<void> {
    const started = performance.now();
    // The seq first: every event up to it is already in the hash (control writes the hash
    // before the seq), and anything that changes during the scan is re-applied from the
    // events after it.
    const seq = await this.readSeq();
    const builder = new DomainMapBuilder();
    let cursor = '0';
    do {
      const [next, fields] = await this.redis.client.hscan(
        DOMAINS_KEY,
        cursor,
        'COUNT',
        HSCAN_COUNT,
      );
      for (let i = 0; i + 1 < fields.length; i += 2) {
        builder.set(fields[i]!, decodeHashValue(fields[i + 1]!));
      }
      cursor = next;
    } while (cursor !== '0');
    const map = builder.build();
    if (!this.log.replace(seq, map)) return; // older than what we run: the caller reports it
    this.loaded = true;
    this.publishSoon();
    const ms = Math.round(performance.now() - started);
    this.logger.log(`domain set loaded: ${map.size} domains at seq ${seq} in ${ms} ms`);
  }

  /**
   * The events after `after`, reading the list from its end in growing windows (it holds the
   * last DOMAIN_EVENTS_KEPT; its head moves while we read). Unparseable entries are skipped:
   * DomainLog then sees the hole and asks for a reload.
   */
  private async readEventsAfter(after: number, target: number): Promise<PublishedDomainEvent[]> {
    const limit = DOMAIN_EVENTS_KEPT * 2;
    let window = Math.min(target - after + 64, limit);
    for (;;) {
      const raw = await this.redis.client.lrange(DOMAIN_EVENTS_KEY, -window, -1);
      const events: PublishedDomainEvent[] = [];
      let oldest = Infinity;
      for (const entry of raw) {
        const notice = parseDomainNotice(entry);
        if (!notice || notice.op === 'reload') continue;
        events.push(notice);
        if (notice.seq < oldest) oldest = notice.seq;
      }
      if (raw.length < window || oldest <= after + 1 || window >= limit) return events;
      window = Math.min(window * 4, limit);
    }
  }

  private async readSeq(): Promise<number> {
    const raw = await this.redis.client.get(DOMAIN_SEQ_KEY);
    const seq = raw === null ? 0 : Number(raw);
    if (!Number.isSafeInteger(seq) || seq < 0) {
      throw new Error(`${DOMAIN_SEQ_KEY} holds ${JSON.stringify(raw)}, not a seq`);
    }
    return seq;
  }

  /**
   * Hands the set to RouterConfig once per burst: the messages of one socket read arrive
   * in one go, and one snapshot per burst spares listeners a call per event.
   */
  private publishSoon(): void {
    if (this.publishScheduled) return;
    this.publishScheduled = true;
    queueMicrotask(() => {
      this.publishScheduled = false;
      const before = this.routerConfig.domainSeq;
      this.routerConfig.installDomains(this.log.seq, this.log.domains);
      if (this.log.seq !== before) this.status.domainsMoved();
    });
  }

  private problem(message: string): void {
    if (this.lastProblem !== message) this.logger.warn(message);
    this.lastProblem = message;
  }

  private solved(): void {
    if (this.lastProblem) this.logger.log(`domain sync resumed at seq ${this.log.seq}`);
    this.lastProblem = null;
  }
}
