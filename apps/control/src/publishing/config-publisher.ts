import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  CONFIG_CHANNEL,
  CONFIG_LATEST_KEY,
  configRevisionKey,
  DOMAIN_EVENTS_KEPT,
  DOMAIN_EVENTS_KEY,
  DOMAIN_SEQ_KEY,
  DOMAINS_CHANNEL,
  DOMAINS_KEY,
  encodeDomainState,
  type PublishedDomainEvent,
  type PublishedRevision,
} from '#redis-keys';
import { DataSource, IsNull } from 'typeorm';
import type { ControlEnv } from '../env/control-env';
import { CONTROL_ENV } from '../env/env.module';
import { DomainEntity, DomainEventEntity, RevisionEntity } from '../persistence/entities';
import { RedisTargets, type RedisTarget } from '../redis/redis-targets';
import { SingleFlight } from '#common';

const REVISION_BATCH = 20;
const DOMAIN_EVENT_BATCH = 1000;
const DOMAIN_RESYNC_CHUNK = 5000;

/**
 * The outbox: revisions are committed to PostgreSQL with `pushed_at` NULL and domain events
 * beyond the `domain_sequence.pushed_seq` cursor; this publisher copies them to every Redis
 * target in order, then marks them pushed.
 * A crash or a Redis outage between commit and push therefore delays a push but never loses
 * it: the next kick (after a write, on start, or on the timer) picks up where it stopped.
 * It also notices a Redis that lost its data (restart without persistence) and rewrites the
 * latest revision and the whole domain set.
 */
@Injectable()
export class ConfigPublisher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ConfigPublisher.name);
  private readonly revisions = new SingleFlight(() => this.pushRevisions());
  private readonly domainEvents = new SingleFlight(() => this.pushDomainEvents());
  private timer: NodeJS.Timeout | undefined;
  private lastFailure: string | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly redis: RedisTargets,
    @Inject(CONTROL_ENV) private readonly env: ControlEnv,
  ) {}

  onApplicationBootstrap(): void {
    this.sweep();
    this.timer = setInterval(() => this.sweep(), this.env.outboxIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([this.revisions.idle(), this.domainEvents.idle()]);
  }

  /** Push pending revisions now (called after each commit). */
  kick(): void {
    this.revisions.kick().catch((error) => this.pushFailed('revisions', error));
  }

  kickDomains(): void {
    this.domainEvents.kick().catch((error) => this.pushFailed('domain events', error));
  }

  /** Push everything pending and wait for it (tests, shutdown). Throws if Redis refuses. */
  async flush(): Promise<void> {
    await this.revisions.kick();
    await this.domainEvents.kick();
  }

  private sweep(): void {
    this.revisions
      .kick()
      .then(() => this.repairLostRevision())
      .catch((error) => this.pushFailed('revisions', error));
    this.domainEvents
      .kick()
      .then(() => this.repairLostDomains())
      .catch((error) => this.pushFailed('domain events', error));
  }

  private pushFailed(what: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    // One line per distinct failure, not one per timer tick during an outage.
    if (this.lastFailure !== message) {
      this.logger.warn(`push of ${what} postponed, will retry: ${message}`);
      this.lastFailure = message;
    }
  }

  private async pushRevisions(): Promise<void> {
    const repository = this.dataSource.getRepository(RevisionEntity);
    for (;;) {
      const pending = await repository.find({
        where: { pushedAt: IsNull() },
        order: { number: 'ASC' },
        take: REVISION_BATCH,
      });
      if (pending.length === 0) return;
      for (const revision of pending) {
        await Promise.all(this.redis.all.map((target) => writeRevision(target, revision)));
        await repository.update({ number: revision.number }, { pushedAt: new Date() });
        this.logger.log(`revision ${revision.number} pushed`);
        this.lastFailure = null;
      }
    }
  }

  private async pushDomainEvents(): Promise<void> {
    for (;;) {
      const pushed = await this.pushedDomainSeq();
      const pending = await this.dataSource
        .getRepository(DomainEventEntity)
        .createQueryBuilder('e')
        .where('e.seq > :pushed', { pushed })
        .orderBy('e.seq', 'ASC')
        .limit(DOMAIN_EVENT_BATCH)
        .getMany();
      if (pending.length === 0) return;
      await Promise.all(
        this.redis.all.map(async (target) => {
          // A Redis that restarted empty must get the whole set before new events, or a
          // router booting from it would load only what came after the restart.
          if (pushed > 0 && (await target.client.exists(DOMAIN_SEQ_KEY)) === 0) {
            this.logger.warn(`redis ${target.name} lost the domain set; rewriting it`);
            await this.rewriteDomainSet(target);
          }
          await writeDomainEvents(target, pending);
        }),
      );
      await this.dataSource.query(
        'UPDATE domain_sequence SET pushed_seq = GREATEST(pushed_seq, $1) WHERE id = 1',
        [pending[pending.length - 1]!.seq],
      );
      this.lastFailure = null;
      // A write committed meanwhile kicks another pass, so a short batch means done.
      if (pending.length < DOMAIN_EVENT_BATCH) return;
    }
  }

  private async pushedDomainSeq(): Promise<number> {
    const [row] = await this.dataSource.query(
      'SELECT pushed_seq::text AS pushed FROM domain_sequence WHERE id = 1',
    );
    return Number(row.pushed);
  }

  /** A Redis that restarted empty gets the latest pushed revision again. */
  private async repairLostRevision(): Promise<void> {
    const latest = await this.dataSource.getRepository(RevisionEntity).findOne({
      where: {},
      order: { number: 'DESC' },
    });
    if (!latest || latest.pushedAt === null) return;
    for (const target of this.redis.all) {
      if ((await target.client.exists(CONFIG_LATEST_KEY)) === 0) {
        this.logger.warn(
          `redis ${target.name} has no configuration; rewriting revision ${latest.number}`,
        );
        await writeRevision(target, latest);
      }
    }
  }

  /** A Redis whose domain seq is behind what was pushed gets the whole set rewritten. */
  private async repairLostDomains(): Promise<void> {
    const pushed = await this.pushedDomainSeq();
    if (pushed === 0) return;
    for (const target of this.redis.all) {
      const seq = Number((await target.client.get(DOMAIN_SEQ_KEY)) ?? 0);
      if (seq < pushed) {
        this.logger.warn(
          `redis ${target.name} is at domain seq ${seq} of ${pushed}; rewriting the set`,
        );
        await this.rewriteDomainSet(target);
      }
    }
  }

  private async rewriteDomainSet(target: RedisTarget): Promise<void> {
    await this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const [row] = await manager.query(
        'SELECT seq::text AS seq FROM domain_sequence WHERE id = 1',
      );
      const seq = Number(row.seq);
      await target.client.del(DOMAINS_KEY, DOMAIN_EVENTS_KEY);
      let after = '';
      for (;;) {
        const chunk: DomainEntity[] = await manager
          .getRepository(DomainEntity)
          .createQueryBuilder('d')
          .where('d.domain > :after', { after })
          .orderBy('d.domain')
          .limit(DOMAIN_RESYNC_CHUNK)
          .getMany();
        if (chunk.length === 0) break;
        const fields: string[] = [];
        for (const d of chunk) fields.push(d.domain, encodeDomainState(d.hostType, d.enabled));
        await target.client.hset(DOMAINS_KEY, ...fields);
        after = chunk[chunk.length - 1]!.domain;
      }
      // The seq goes last: a router that sees it can trust the set.
      await target.client.set(DOMAIN_SEQ_KEY, String(seq));
      await target.client.publish(DOMAINS_CHANNEL, JSON.stringify({ seq, op: 'reload' }));
    });
  }
}

async function writeRevision(target: RedisTarget, revision: RevisionEntity): Promise<void> {
  const published: PublishedRevision = {
    revision: revision.number,
    hash: revision.hash.trim(),
    createdAt: revision.createdAt.toISOString(),
    config: revision.snapshot,
  };
  const value = JSON.stringify(published);
  const client = target.client;
  await client.set(configRevisionKey(revision.number), value);
  // Never move `latest` backwards (another control instance may have pushed a newer one).
  const current = await client.get(CONFIG_LATEST_KEY);
  const currentNumber = current ? (JSON.parse(current) as PublishedRevision).revision : 0;
  if (revision.number >= currentNumber) await client.set(CONFIG_LATEST_KEY, value);
  await client.publish(CONFIG_CHANNEL, String(revision.number));
}

async function writeDomainEvents(target: RedisTarget, events: DomainEventEntity[]): Promise<void> {
  const pipeline = target.client.pipeline();
  const entries: string[] = [];
  for (const event of events) {
    const published: PublishedDomainEvent =
      event.op === 'delete'
        ? { seq: event.seq, op: 'delete', domain: event.domain }
        : {
            seq: event.seq,
            op: 'upsert',
            domain: event.domain,
            hostType: event.hostType!,
            enabled: event.enabled!,
          };
    if (event.op === 'delete') pipeline.hdel(DOMAINS_KEY, event.domain);
    else
      pipeline.hset(DOMAINS_KEY, event.domain, encodeDomainState(event.hostType!, event.enabled!));
    entries.push(JSON.stringify(published));
  }
  pipeline.rpush(DOMAIN_EVENTS_KEY, ...entries);
  pipeline.ltrim(DOMAIN_EVENTS_KEY, -DOMAIN_EVENTS_KEPT, -1);
  pipeline.set(DOMAIN_SEQ_KEY, String(events[events.length - 1]!.seq));
  for (const entry of entries) pipeline.publish(DOMAINS_CHANNEL, entry);
  const results = await pipeline.exec();
  const failed = results?.find(([error]) => error);
  if (!results || failed) throw failed?.[0] ?? new Error('redis pipeline was not executed');
}
