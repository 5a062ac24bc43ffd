// Which published revision to apply, with no I/O: never one older than what runs (or than
// one already refused), validated with libs/config against this router's dynamic domains,
// and only if it still lists this router's datacenter. A refused revision is judged again
// only when the domain set moved (a component under a domain this router had not heard of
// yet may become valid), so a bad revision is not re-validated and re-logged on every poll.
import { validateConfig, type ConfigFieldError, type MeridianConfigDocument } from '#config';
import type { PublishedRevision } from '#redis-keys';

export type RevisionVerdict =
  | { readonly kind: 'ignore' }
  | {
      readonly kind: 'apply';
      readonly revision: number;
      readonly hash: string;
      readonly config: MeridianConfigDocument;
    }
  | {
      readonly kind: 'refuse';
      readonly revision: number;
      readonly error: string;
      readonly errors: readonly ConfigFieldError[];
      /** Valid, but without this router's datacenter. */
      readonly localHostMissing: boolean;
      /** The same revision was refused before (for the same or other reasons). */
      readonly again: boolean;
    };

export interface DomainView {
  readonly seq: number;
  has(domain: string): boolean;
}

/** `meridian:config:latest` or `meridian:config:rev:<n>`, or an error saying why not. */
export function parsePublishedRevision(raw: string): PublishedRevision | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { error: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null) return { error: 'not a JSON object' };
  const { revision, hash, createdAt, config } = value as Record<string, unknown>;
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 1) {
    return { error: '"revision" is not a positive whole number' };
  }
  return {
    revision,
    hash: typeof hash === 'string' ? hash : '',
    createdAt: typeof createdAt === 'string' ? createdAt : '',
    config,
  };
}

/**
 * The dynamic domains a document names (datacenter names, parents of component domains)
 * that this router knows: what validateConfig needs, without passing it 100,000 names.
 * The same selection control makes before creating a revision.
 */
export function dynamicDomainsNamedIn(document: unknown, domains: DomainView): string[] {
  const names = new Set<string>();
  const doc = (typeof document === 'object' && document !== null ? document : {}) as {
    datacenters?: unknown;
    components?: unknown;
  };
  for (const dc of Array.isArray(doc.datacenters) ? doc.datacenters : []) {
    const name = (dc as { localHost?: unknown } | null)?.localHost;
    if (typeof name === 'string') names.add(name.trim().toLowerCase());
  }
  for (const component of Array.isArray(doc.components) ? doc.components : []) {
    const domain = (component as { domain?: unknown } | null)?.domain;
    if (typeof domain !== 'string') continue;
    const labels = domain.trim().toLowerCase().split('.');
    for (let i = 0; i < labels.length; i++) names.add(labels.slice(i).join('.'));
  }
  return [...names].filter((name) => domains.has(name));
}

/** One line for logs and the status record's `error`. */
export function summarizeErrors(revision: number, errors: readonly ConfigFieldError[]): string {
  const first = errors[0];
  const head = first ? `${first.path || '(document)'}: ${first.message}` : 'invalid';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return `revision ${revision} refused: ${head}${more}`;
}

export class RevisionGate {
  private appliedRevision = 0;
  private refused: { revision: number; domainSeq: number } | null = null;

  constructor(private readonly localHost: string) {}

  get applied(): number {
    return this.appliedRevision;
  }

  /** The newest revision refused and not yet superseded by an applied one. */
  get refusedRevision(): number | null {
    return this.refused?.revision ?? null;
  }

  judge(published: PublishedRevision, domains: DomainView): RevisionVerdict {
    const { revision } = published;
    if (revision <= this.appliedRevision) return { kind: 'ignore' };
    const again = this.refused?.revision === revision;
    if (this.refused && revision < this.refused.revision) return { kind: 'ignore' };
    if (again && this.refused!.domainSeq === domains.seq) return { kind: 'ignore' };

    const verdict = this.validate(published, domains);
    if (verdict.kind === 'apply') {
      this.appliedRevision = revision;
      this.refused = null;
      return verdict;
    }
    this.refused = { revision, domainSeq: domains.seq };
    return { ...verdict, again };
  }

  private validate(
    published: PublishedRevision,
    domains: DomainView,
  ): Exclude<RevisionVerdict, { kind: 'ignore' }> {
    const { revision } = published;
    const result = validateConfig(published.config, {
      extraServedDomains: dynamicDomainsNamedIn(published.config, domains),
    });
    const errors: ConfigFieldError[] = result.ok ? [] : result.errors;
    const localHostMissing =
      result.ok && !result.config.datacenters.some((dc) => dc.localHost === this.localHost);
    if (localHostMissing) {
      errors.push({
        path: 'datacenters',
        message: `does not list this router's datacenter ${this.localHost} (MERIDIAN_LOCAL_HOST)`,
      });
    }
    if (result.ok && errors.length === 0) {
      return { kind: 'apply', revision, hash: published.hash, config: result.config };
    }
    return {
      kind: 'refuse',
      revision,
      error: summarizeErrors(revision, errors),
      errors,
      localHostMissing,
      again: false,
    };
  }
}
