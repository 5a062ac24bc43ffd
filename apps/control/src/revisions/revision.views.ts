import type { ConfigChange, MeridianConfigDocument } from '#config';
import type { RevisionEntity } from '../persistence/entities';

export interface RevisionSummary {
  readonly number: number;
  readonly hash: string;
  readonly author: string;
  readonly comment: string | null;
  readonly rollbackOf: number | null;
  readonly createdAt: string;
  /** False while the revision waits in the outbox (Redis unreachable). */
  readonly pushed: boolean;
  readonly pushedAt: string | null;
}

export interface MutationOutcome {
  /** `created`: a new revision; `unchanged`: the result equals the current revision; `dryRun`: nothing stored. */
  readonly outcome: 'created' | 'unchanged' | 'dryRun';
  readonly revision: RevisionSummary;
  readonly changes: readonly ConfigChange[];
  /** The resulting configuration, secrets redacted. */
  readonly config: MeridianConfigDocument;
}

export function summarize(entity: RevisionEntity): RevisionSummary {
  return {
    number: entity.number,
    hash: entity.hash.trim(),
    author: entity.author,
    comment: entity.comment,
    rollbackOf: entity.rollbackOf,
    createdAt: entity.createdAt.toISOString(),
    pushed: entity.pushedAt !== null,
    pushedAt: entity.pushedAt?.toISOString() ?? null,
  };
}
