import {
  ConflictException,
  Injectable,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { isValidDomainName, normalizeDomain, type MeridianConfigDocument } from '#config';
import { DataSource, EntityManager } from 'typeorm';
import { InvalidInputException } from '../http/api-errors';
import { DomainEntity, DomainEventEntity, type DomainEventOp } from '../persistence/entities';
import { ConfigPublisher } from '../publishing/config-publisher';

export interface DomainView {
  readonly domain: string;
  readonly hostType: string;
  readonly enabled: boolean;
}

export interface DomainPage {
  readonly domains: DomainView[];
  /** Pass as `after` for the next page; null on the last page. */
  readonly next: string | null;
  readonly seq: number;
}

export interface DomainFilter {
  readonly hostType?: string;
  readonly enabled?: boolean;
  readonly after?: string;
  readonly limit: number;
}

type RevisionFacts = Pick<
  MeridianConfigDocument,
  'globalHost' | 'hostTypes' | 'datacenters' | 'components'
>;

/**
 * Dynamic domains (MongooseIM 5 semantics). Each change and its event are written in one
 * transaction; the event's `seq` comes from a counter row whose lock is held until commit, so
 * events commit in `seq` order with no gaps, and the publisher can push them in that order.
 */
@Injectable()
export class DomainsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly publisher: ConfigPublisher,
  ) {}

  async get(raw: string): Promise<DomainView> {
    const domain = parseDomain(raw);
    const row = await this.dataSource.getRepository(DomainEntity).findOneBy({ domain });
    if (!row) throw new NotFoundException(`domain ${domain} does not exist`);
    return view(row);
  }

  async list(filter: DomainFilter): Promise<DomainPage> {
    const query = this.dataSource
      .getRepository(DomainEntity)
      .createQueryBuilder('d')
      .orderBy('d.domain', 'ASC')
      .limit(filter.limit + 1);
    if (filter.hostType !== undefined)
      query.andWhere('d.host_type = :hostType', { hostType: filter.hostType });
    if (filter.enabled !== undefined)
      query.andWhere('d.enabled = :enabled', { enabled: filter.enabled });
    if (filter.after !== undefined) query.andWhere('d.domain > :after', { after: filter.after });
    const [rows, seq] = await Promise.all([query.getMany(), this.currentSeq()]);
    const page = rows.slice(0, filter.limit);
    return {
      domains: page.map(view),
      next: rows.length > filter.limit ? page[page.length - 1]!.domain : null,
      seq,
    };
  }

  async create(raw: string, hostType: string, author: string): Promise<DomainView> {
    const domain = parseDomain(raw);
    const created = await this.dataSource.transaction(async (manager) => {
      const facts = await latestFacts(manager);
      if (!facts.hostTypes.some((h) => h.name === hostType)) {
        throw new UnprocessableEntityException(`host type "${hostType}" does not exist`);
      }
      refuseStaticName(domain, facts);
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(DomainEntity)
        .values({ domain, hostType, enabled: true })
        .orIgnore()
        .execute();
      if ((inserted.raw as unknown[]).length === 0) {
        throw new ConflictException(`domain ${domain} already exists`);
      }
      await appendEvent(manager, 'upsert', domain, hostType, true, author);
      return { domain, hostType, enabled: true };
    });
    this.publisher.kickDomains();
    return created;
  }

  async setEnabled(raw: string, enabled: boolean, author: string): Promise<DomainView> {
    const domain = parseDomain(raw);
    const result = await this.dataSource.transaction(async (manager) => {
      const row = await manager
        .getRepository(DomainEntity)
        .findOne({ where: { domain }, lock: { mode: 'pessimistic_write' } });
      if (!row) throw new NotFoundException(`domain ${domain} does not exist`);
      if (row.enabled === enabled) return { changed: false, row };
      row.enabled = enabled;
      await manager.getRepository(DomainEntity).update({ domain }, { enabled });
      await appendEvent(manager, 'upsert', domain, row.hostType, enabled, author);
      return { changed: true, row };
    });
    if (result.changed) this.publisher.kickDomains();
    return view(result.row);
  }

  async remove(raw: string, author: string): Promise<void> {
    const domain = parseDomain(raw);
    await this.dataSource.transaction(async (manager) => {
      const deleted = await manager.getRepository(DomainEntity).delete({ domain });
      if (!deleted.affected) throw new NotFoundException(`domain ${domain} does not exist`);
      await appendEvent(manager, 'delete', domain, null, null, author);
    });
    this.publisher.kickDomains();
  }

  async currentSeq(): Promise<number> {
    const [row] = await this.dataSource.query(
      'SELECT seq::text AS seq FROM domain_sequence WHERE id = 1',
    );
    return Number(row?.seq ?? 0);
  }

  /** Events after `after`, oldest first (what a router replays; also used by tests). */
  async events(after: number, limit: number): Promise<DomainEventEntity[]> {
    return this.dataSource
      .getRepository(DomainEventEntity)
      .createQueryBuilder('e')
      .where('e.seq > :after', { after })
      .orderBy('e.seq', 'ASC')
      .limit(limit)
      .getMany();
  }
}

async function appendEvent(
  manager: EntityManager,
  op: DomainEventOp,
  domain: string,
  hostType: string | null,
  enabled: boolean | null,
  author: string,
): Promise<void> {
  const [[row]] = await manager.query(
    'UPDATE domain_sequence SET seq = seq + 1 WHERE id = 1 RETURNING seq::text AS seq',
  );
  await manager.insert(DomainEventEntity, {
    seq: Number(row.seq),
    op,
    domain,
    hostType,
    enabled,
    author,
    pushedAt: null,
  });
}

async function latestFacts(manager: EntityManager): Promise<RevisionFacts> {
  const [row] = await manager.query(
    `SELECT snapshot->'globalHost' AS "globalHost", snapshot->'hostTypes' AS "hostTypes",
            snapshot->'datacenters' AS datacenters, snapshot->'components' AS components
       FROM revisions ORDER BY number DESC LIMIT 1`,
  );
  if (!row) {
    throw new ConflictException(
      'no configuration exists yet: create it (PUT /v1/config or PUT /v1/settings) before adding domains',
    );
  }
  return row as RevisionFacts;
}

function refuseStaticName(domain: string, facts: RevisionFacts): void {
  if (domain === facts.globalHost) {
    throw new ConflictException(`${domain} is the global host and is always served`);
  }
  if (facts.datacenters.some((dc) => dc.localHost === domain)) {
    throw new ConflictException(`${domain} names a datacenter and cannot be a served domain`);
  }
  if (facts.components.some((c) => c.domain === domain)) {
    throw new ConflictException(`${domain} is a component domain`);
  }
}

function parseDomain(raw: string): string {
  const domain = normalizeDomain(raw);
  if (!isValidDomainName(domain)) {
    throw new InvalidInputException([
      { path: 'domain', message: `"${raw}" is not a valid domain name` },
    ]);
  }
  return domain;
}

const view = (row: DomainEntity): DomainView => ({
  domain: row.domain,
  hostType: row.hostType,
  enabled: row.enabled,
});
