// The shapes control's REST API answers with, shared by control (which builds them) and
// meridianctl (which reads them): one contract for the API and its client. Types only.
import type { ConfigChange, MeridianConfigDocument } from '#config';

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

export interface RouterView {
  readonly node: string;
  readonly localHost: string;
  readonly revision: number;
  readonly domainSeq: number;
  readonly status: 'ack' | 'nack';
  readonly rejectedRevision: number | null;
  readonly error: string | null;
  readonly errors: readonly { path: string; message: string }[];
  readonly startedAt: string;
  readonly heartbeatAt: string;
  readonly stale: boolean;
  /** Running the latest revision and acknowledging it. */
  readonly synced: boolean;
  readonly sessions: number | null;
}

export interface RolloutView {
  readonly latestRevision: number;
  readonly routers: RouterView[];
  /** How many routers run each revision, newest first (like `istioctl proxy-status`). */
  readonly revisions: { revision: number; routers: number }[];
}

export interface TopologyView {
  readonly datacenters: {
    localHost: string;
    region: string | null;
    inConfig: boolean;
    nodes: { node: string; alive: boolean; endpoints: string[]; sessions: number | null }[];
  }[];
}

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

/** Every error answer: `{ statusCode, error, message, errors? }`. */
export interface ApiErrorBody {
  readonly statusCode: number;
  readonly error?: string;
  readonly message: string | string[];
  readonly errors?: readonly { path: string; message: string }[];
}
