import {
  ConflictException,
  Injectable,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { isValidDomainName, normalizeDomain, type MeridianConfigDocument } from '#config';
import type { DomainPage, DomainView } from '#control-api';
import { DataSource, EntityManager } from 'typeorm';
import { InvalidInputException } from '../http/api-errors';
import { DomainEntity, DomainEventEntity } from '../persistence/entities';
import { ConfigPublisher } from '../publishing/config-publisher';

export type { DomainPage, DomainView } from '#control-api';

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
 * Dynamic domains (MongooseIM 5 semantics). Each change and its event are written by one
 * statement; the event's `seq` comes from a counter row whose lock is held until commit, so
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
    // One statement, one round trip: the host-type and name checks against the latest
    // revision, the insert, the seq and the event. The counter row stays locked only for
    // this statement's commit.
    const rows: unknown[] = await this.dataSource.query(
      `WITH latest AS (
         SELECT snapshot FROM revisions ORDER BY number DESC LIMIT 1
       ), allowed AS (
         SELECT 1 FROM latest
          WHERE snapshot->'hostTypes' @> jsonb_build_array(jsonb_build_object('name', $2::text))
            AND snapshot->>'globalHost' <> $1
            AND NOT snapshot->'datacenters' @> jsonb_build_array(jsonb_build_object('localHost', $1::text))
            AND NOT snapshot->'components' @> jsonb_build_array(jsonb_build_object('domain', $1::text))
       ), inserted AS (
         INSERT INTO domains (domain, host_type, enabled) SELECT $1, $2, true FROM allowed
         ON CONFLICT DO NOTHING RETURNING domain
       ), next AS (
         UPDATE domain_sequence SET seq = seq + 1
          WHERE id = 1 AND EXISTS (SELECT 1 FROM inserted) RETURNING seq
       )
       INSERT INTO domain_events (seq, op, domain, host_type, enabled, author)
       SELECT seq, 'upsert', $1, $2, true, $3 FROM next RETURNING seq`,
      [domain, hostType, author],
    );
    if (rows.length === 0) await this.explainRefusedCreate(domain, hostType);
    this.publisher.kickDomains();
    return { domain, hostType, enabled: true };
  }

  async setEnabled(raw: string, enabled: boolean, author: string): Promise<DomainView> {
    const domain = parseDomain(raw);
    const rows: { host_type: string }[] = await this.dataSource.query(
      `WITH changed AS (
         UPDATE domains SET enabled = $2, updated_at = now()
          WHERE domain = $1 AND enabled <> $2 RETURNING host_type
       ), next AS (
         UPDATE domain_sequence SET seq = seq + 1
          WHERE id = 1 AND EXISTS (SELECT 1 FROM changed) RETURNING seq
       )
       INSERT INTO domain_events (seq, op, domain, host_type, enabled, author)
       SELECT next.seq, 'upsert', $1, changed.host_type, $2, $3 FROM next, changed
       RETURNING host_type`,
      [domain, enabled, author],
    );
    if (rows.length > 0) {
      this.publisher.kickDomains();
      return { domain, hostType: rows[0]!.host_type, enabled };
    }
    // Nothing changed: unknown domain (404) or already in that state (no event).
    return this.get(domain);
  }

  async remove(raw: string, author: string): Promise<void> {
    const domain = parseDomain(raw);
    const rows: unknown[] = await this.dataSource.query(
      `WITH removed AS (
         DELETE FROM domains WHERE domain = $1 RETURNING domain
       ), next AS (
         UPDATE domain_sequence SET seq = seq + 1
          WHERE id = 1 AND EXISTS (SELECT 1 FROM removed) RETURNING seq
       )
       INSERT INTO domain_events (seq, op, domain, author)
       SELECT seq, 'delete', $1, $2 FROM next RETURNING seq`,
      [domain, author],
    );
    if (rows.length === 0) throw new NotFoundException(`domain ${domain} does not exist`);
    this.publisher.kickDomains();
  }

  /** Why a create wrote nothing (run only on that path, so success stays one query). */
  private async explainRefusedCreate(domain: string, hostType: string): Promise<never> {
    const facts = await latestFacts(this.dataSource.manager);
    if (!facts.hostTypes.some((h) => h.name === hostType)) {
      throw new UnprocessableEntityException(`host type "${hostType}" does not exist`);
    }
    refuseStaticName(domain, facts);
    throw new ConflictException(`domain ${domain} already exists`);
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
