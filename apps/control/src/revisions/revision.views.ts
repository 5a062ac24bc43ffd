import { configHash, redactConfig } from '#config';
import type { RevisionSummary } from '#control-api';
import type { RevisionEntity } from '../persistence/entities';

export type { MutationOutcome, RevisionSummary } from '#control-api';

export function summarize(entity: RevisionEntity): RevisionSummary {
  return {
    number: entity.number,
    hash: configHash(redactConfig(entity.snapshot)),
    author: entity.author,
    comment: entity.comment,
    rollbackOf: entity.rollbackOf,
    createdAt: entity.createdAt.toISOString(),
    pushed: entity.pushedAt !== null,
    pushedAt: entity.pushedAt?.toISOString() ?? null,
  };
}
