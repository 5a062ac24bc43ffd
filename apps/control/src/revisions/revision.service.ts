import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  configHash,
  diffConfigs,
  redactConfig,
  restoreRedactedSecrets,
  validateConfig,
  type ConfigChange,
  type MeridianConfigDocument,
} from '#config';
import { DataSource, EntityManager, In, LessThan } from 'typeorm';
import { InvalidInputException, StaleRevisionException } from '../http/api-errors';
import type { MutationOptions } from '../http/mutation-options';
import { DomainEntity, RevisionEntity } from '../persistence/entities';
import { ConfigPublisher } from '../publishing/config-publisher';
import { MutationOutcome, RevisionSummary, summarize } from './revision.views';

/** Serialises revision writers across every control instance sharing the database. */
const REVISION_LOCK = 0x4d524456; // "MRDV"

/**
 * Turns a proposed change into revision n+1: validated with libs/config, hashed, diffed and
 * stored in one transaction, then handed to the publisher. The change itself is a function of
 * the current document so every route (whole config, one datacenter, bounce...) shares it.
 */
export type ConfigTransform = (current: MeridianConfigDocument | null) => unknown;

export interface MutateFlags {
  /** Only PUT /v1/config and PUT /v1/settings may create the first revision. */
  readonly mayCreateFirst?: boolean;
  readonly rollbackOf?: number;
}

@Injectable()
export class RevisionService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly publisher: ConfigPublisher,
  ) {}

  async latest(): Promise<RevisionEntity | null> {
    return this.dataSource.getRepository(RevisionEntity).findOne({
      where: {},
      order: { number: 'DESC' },
    });
  }

  /** The current revision (secrets included) for reads; 404 when none exists yet. */
  async current(): Promise<RevisionEntity> {
    const latest = await this.latest();
    if (!latest) {
      throw new NotFoundException(
        'no configuration exists yet: create it with PUT /v1/config or PUT /v1/settings',
      );
    }
    return latest;
  }

  async get(number: number): Promise<RevisionEntity> {
    const revision = await this.dataSource.getRepository(RevisionEntity).findOneBy({ number });
    if (!revision) throw new NotFoundException(`revision ${number} does not exist`);
    return revision;
  }

  async list(limit: number, before?: number): Promise<RevisionSummary[]> {
    const rows = await this.dataSource.getRepository(RevisionEntity).find({
      where: before === undefined ? {} : { number: LessThan(before) },
      order: { number: 'DESC' },
      take: limit,
    });
    return rows.map(summarize);
  }

  /** What changed from revision n-1 to revision n (secrets redacted). */
  async diff(
    number: number,
  ): Promise<{ from: number | null; to: number; changes: ConfigChange[] }> {
    const revision = await this.get(number);
    const previous =
      number > 1
        ? await this.dataSource.getRepository(RevisionEntity).findOneBy({ number: number - 1 })
        : null;
    return {
      from: previous?.number ?? null,
      to: number,
      changes: diffConfigs(previous?.snapshot ?? null, revision.snapshot),
    };
  }

  async rollback(target: number, options: MutationOptions): Promise<MutationOutcome> {
    const old = await this.get(target);
    return this.mutate(options, () => old.snapshot, { rollbackOf: target });
  }

  async mutate(
    options: MutationOptions,
    transform: ConfigTransform,
    flags: MutateFlags = {},
  ): Promise<MutationOutcome> {
    const result = await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [REVISION_LOCK]);
      const latest = await manager.getRepository(RevisionEntity).findOne({
        where: {},
        order: { number: 'DESC' },
      });
      const currentNumber = latest?.number ?? 0;
      if (options.ifMatch !== null && options.ifMatch !== currentNumber) {
        throw new StaleRevisionException(options.ifMatch, currentNumber);
      }
      if (!latest && !flags.mayCreateFirst) throw noConfigYet();

      const current = latest?.snapshot ?? null;
      const proposed = restoreRedactedSecrets(transform(current), current);
      const validation = validateConfig(proposed, {
        extraServedDomains: await this.dynamicDomainsNamedIn(manager, proposed),
      });
      if (!validation.ok) {
        throw new InvalidInputException(
          validation.errors,
          'the resulting configuration is invalid',
        );
      }
      const next = validation.config;
      await this.refuseOrphanedHostTypes(manager, next);

      const hash = configHash(next);
      const changes = diffConfigs(current, next);
      if (latest && hash === latest.hash.trim() && flags.rollbackOf === undefined) {
        return { outcome: 'unchanged', entity: latest, changes: [], config: next } as const;
      }
      const entity = manager.getRepository(RevisionEntity).create({
        number: currentNumber + 1,
        snapshot: next,
        hash,
        author: options.author,
        comment: options.comment,
        rollbackOf: flags.rollbackOf ?? null,
        pushedAt: null,
      });
      if (options.dryRun) {
        entity.createdAt = new Date();
        return { outcome: 'dryRun', entity, changes, config: next } as const;
      }
      const saved = await manager.getRepository(RevisionEntity).save(entity);
      return { outcome: 'created', entity: saved, changes, config: next } as const;
    });

    if (result.outcome === 'created') this.publisher.kick();
    return {
      outcome: result.outcome,
      revision: summarize(result.entity),
      changes: result.changes,
      config: redactConfig(result.config),
    };
  }

  /**
   * Dynamic domains matter to a revision only where it names them: a datacenter may not be
   * called like one, and a component may live under one. Loading just those keeps a revision
   * cheap with 100,000 domains.
   */
  private async dynamicDomainsNamedIn(
    manager: EntityManager,
    proposed: unknown,
  ): Promise<string[]> {
    const names = new Set<string>();
    const doc = (proposed ?? {}) as { datacenters?: unknown; components?: unknown };
    for (const dc of Array.isArray(doc.datacenters) ? doc.datacenters : []) {
      const name = (dc as { localHost?: unknown })?.localHost;
      if (typeof name === 'string') names.add(name.trim().toLowerCase());
    }
    for (const component of Array.isArray(doc.components) ? doc.components : []) {
      const domain = (component as { domain?: unknown })?.domain;
      if (typeof domain !== 'string') continue;
      const labels = domain.trim().toLowerCase().split('.');
      for (let i = 0; i < labels.length; i++) names.add(labels.slice(i).join('.'));
    }
    if (names.size === 0) return [];
    const rows = await manager
      .getRepository(DomainEntity)
      .find({ select: { domain: true }, where: { domain: In([...names]) } });
    return rows.map((row) => row.domain);
  }

  private async refuseOrphanedHostTypes(
    manager: EntityManager,
    next: MeridianConfigDocument,
  ): Promise<void> {
    const names = next.hostTypes.map((hostType) => hostType.name);
    const orphans: { host_type: string; domains: string }[] = await manager.query(
      `SELECT host_type, count(*)::text AS domains FROM domains
        WHERE NOT (host_type = ANY($1)) GROUP BY host_type ORDER BY host_type`,
      [names],
    );
    if (orphans.length > 0) {
      const list = orphans.map((o) => `${o.host_type} (${o.domains} domains)`).join(', ');
      throw new ConflictException(
        `host types still used by dynamic domains cannot be removed: ${list}`,
      );
    }
  }
}

function noConfigYet(): ConflictException {
  return new ConflictException(
    'no configuration exists yet: create the first revision with PUT /v1/config ' +
      'or PUT /v1/settings (with a globalHost)',
  );
}
