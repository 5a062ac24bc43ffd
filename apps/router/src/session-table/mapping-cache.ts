// The session table's local cache policy (ARCHITECTURE §5, §12), with no Redis and no Nest:
// what may be cached, for how long, and what is evicted. Lifetimes are checked when an entry
// is read, against the policy in force then, so a shorter lifetime applies to entries already
// cached as soon as a revision lowers it.
import { CacheConfig, type CacheDocument } from '#config';
import { LRUCache } from 'lru-cache';

/**
 * `jid`: a user JID -> localHost; `domain`: a component domain -> localHost; `node`: a full
 * JID -> node of this datacenter. A cached null is a failed lookup.
 */
export type MappingKind = 'jid' | 'domain' | 'node';

const KINDS: readonly MappingKind[] = ['jid', 'domain', 'node'];

/** MongooseIM's defaults, from the one definition in libs/config. */
export const DEFAULT_CACHE_POLICY: Readonly<CacheDocument> = Object.freeze({
  ...new CacheConfig(),
});

/**
 * A Redis read in progress for a key. If the key is dropped meanwhile (an invalidation
 * notice), what the read returns may predate the change and is not cached.
 */
export interface ReadTicket {
  readonly key: string;
  dropped: boolean;
}

interface Entry {
  readonly value: string | null;
  readonly cachedAt: number;
}

export class MappingCache {
  private policy: CacheDocument;
  private entries: LRUCache<string, Entry>;
  private readonly reads = new Map<string, Set<ReadTicket>>();

  /** @param now milliseconds on a monotonic clock (injectable for tests) */
  constructor(
    policy: CacheDocument = DEFAULT_CACHE_POLICY,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.policy = { ...policy };
    this.entries = new LRUCache({ max: policy.maxJids });
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached value (null: a cached failed lookup), or undefined when nothing live is cached.
   * A hit makes the entry the most recently used.
   */
  get(kind: MappingKind, key: string): string | null | undefined {
    const cacheKey = keyOf(kind, key);
    const entry = this.entries.get(cacheKey);
    if (!entry) return undefined;
    if (this.now() - entry.cachedAt >= this.lifetimeMs(kind, entry.value)) {
      this.entries.delete(cacheKey);
      return undefined;
    }
    return entry.value;
  }

  /** Caches a mapping, or a failed lookup (null) when the policy caches misses. */
  set(kind: MappingKind, key: string, value: string | null): void {
    if (this.lifetimeMs(kind, value) <= 0) {
      // Not cacheable now; an older entry must not outlive the answer that replaced it.
      this.entries.delete(keyOf(kind, key));
      return;
    }
    this.entries.set(keyOf(kind, key), { value, cachedAt: this.now() });
  }

  /**
   * Like `set`, for a mapping learned from traffic (origin learning, once per incoming
   * stanza): an entry with the same value still in the first half of its life is left as it
   * is, so a talkative sender costs a map lookup rather than an LRU write per stanza.
   */
  learn(kind: MappingKind, key: string, value: string): void {
    const entry = this.entries.peek(keyOf(kind, key));
    if (entry?.value === value && this.now() - entry.cachedAt < this.lifetimeMs(kind, value) / 2) {
      return;
    }
    this.set(kind, key, value);
  }

  /** Drops every kind of entry for a JID or domain (invalidation notices, bounce retries). */
  drop(key: string): void {
    for (const kind of KINDS) this.entries.delete(keyOf(kind, key));
    for (const ticket of this.reads.get(key) ?? []) ticket.dropped = true;
  }

  /** Drops everything (the invalidation subscription was interrupted). */
  clear(): void {
    this.entries.clear();
    for (const tickets of this.reads.values()) for (const ticket of tickets) ticket.dropped = true;
  }

  beginRead(key: string): ReadTicket {
    const ticket: ReadTicket = { key, dropped: false };
    const tickets = this.reads.get(key) ?? new Set<ReadTicket>();
    this.reads.set(key, tickets.add(ticket));
    return ticket;
  }

  endRead(ticket: ReadTicket): void {
    const tickets = this.reads.get(ticket.key);
    tickets?.delete(ticket);
    if (tickets?.size === 0) this.reads.delete(ticket.key);
  }

  setPolicy(policy: CacheDocument): void {
    const previousMax = this.policy.maxJids;
    this.policy = { ...policy };
    if (policy.maxJids === previousMax) return;
    // LRUCache's bound is fixed at construction: copy into a new one, least recently used
    // first, so a smaller bound keeps the most recently used entries.
    const resized = new LRUCache<string, Entry>({ max: policy.maxJids });
    for (const [key, entry] of [...this.entries.entries()].reverse()) resized.set(key, entry);
    this.entries = resized;
  }

  private lifetimeMs(kind: MappingKind, value: string | null): number {
    const { cacheMissed, domainLifetimeS, jidLifetimeS } = this.policy;
    const kindLifetimeS = kind === 'domain' ? domainLifetimeS : jidLifetimeS;
    if (value !== null) return kindLifetimeS * 1000;
    // A failed lookup lives no longer than jidLifetimeS, whatever its kind (ARCHITECTURE §12).
    return cacheMissed ? Math.min(kindLifetimeS, jidLifetimeS) * 1000 : 0;
  }
}

// The kind is a fixed word without spaces, so the prefix cannot be confused with a JID.
function keyOf(kind: MappingKind, key: string): string {
  return `${kind} ${key}`;
}
