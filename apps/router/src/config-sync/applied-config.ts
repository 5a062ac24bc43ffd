// Which configuration revision this router runs. Empty until the config-sync core (loading
// the snapshot from Redis, ARCHITECTURE §4) applies one; readiness waits for it.
import { Injectable } from '@nestjs/common';

export interface AppliedRevision {
  readonly revision: number;
  readonly appliedAt: Date;
}

@Injectable()
export class AppliedConfig {
  private applied: AppliedRevision | null = null;

  get current(): AppliedRevision | null {
    return this.applied;
  }

  markApplied(revision: number): void {
    this.applied = { revision, appliedAt: new Date() };
  }
}
