import { configHash, redactConfig, type ConfigChange, type MeridianConfigDocument } from '#config';
import type { RevisionEntity } from '../persistence/entities';

export interface RevisionSummary {
  readonly number: number;
  /**
   * SHA-256 of the configuration with its secrets redacted. The stored hash covers the
   * secrets too (so a changed secret is a change) and is never shown: with the rest of the
   * document known, it would let a reader test guesses at a short secret offline.
   */
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
    hash: configHash(redactConfig(entity.snapshot)),
    author: entity.author,
    comment: entity.comment,
    rollbackOf: entity.rollbackOf,
    createdAt: entity.createdAt.toISOString(),
    pushed: entity.pushedAt !== null,
    pushedAt: entity.pushedAt?.toISOString() ?? null,
  };
}
