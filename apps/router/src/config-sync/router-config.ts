// The configuration in force on this router: one immutable RouterSnapshot (revision + dynamic
// domains), replaced as a whole, so a stanza that read the snapshot finishes under it. Other
// modules read `snapshot` and re-apply pools, cache policy and timers from onChange.
// Only config-sync installs new revisions and domain sets (installRevision/installDomains).
import { Injectable, Logger } from '@nestjs/common';
import type { MeridianConfigDocument } from '#config';
import { DomainMap, type DomainChange, type DomainState } from './domain-map';

export type { DomainChange, DomainState };

export interface RouterSnapshot {
  readonly revision: number;
  /** The revision's hash as control computed it (canonical JSON, SHA-256). */
  readonly hash: string;
  /** Validated by libs/config and deeply frozen. */
  readonly config: MeridianConfigDocument;
  readonly domainSeq: number;
  /** Immutable: a later domain event makes a new map, never changes this one. */
  readonly domains: ReadonlyMap<string, DomainState>;
}

export type SnapshotListener = (next: RouterSnapshot, previous: RouterSnapshot | null) => void;

/** Domains whose state changed in one swap, with the snapshot that holds the change. */
export type DomainChangeListener = (
  changes: readonly DomainChange[],
  snapshot: RouterSnapshot,
) => void;

/** What config-sync hands over for a new revision. */
export interface AppliedRevision {
  readonly revision: number;
  readonly hash: string;
  readonly config: MeridianConfigDocument;
}

@Injectable()
export class RouterConfig {
  private readonly logger = new Logger(RouterConfig.name);
  private current: RouterSnapshot | null = null;
  /** The domain set in force, also before the first revision (validation needs it). */
  private domainSet: { seq: number; map: DomainMap } = { seq: 0, map: DomainMap.EMPTY };
  private readonly listeners = new Set<SnapshotListener>();
  private readonly domainListeners = new Set<DomainChangeListener>();
  /** Last failure of each listener, so a listener failing on every swap is logged once. */
  private readonly listenerFailures = new Map<unknown, string>();

  /** The snapshot in force. Throws before the first revision is applied (boot holds until then). */
  get snapshot(): RouterSnapshot {
    if (!this.current) throw new Error('RouterConfig: no configuration revision applied yet');
    return this.current;
  }

  get applied(): boolean {
    return this.current !== null;
  }

  /** The domain set and its seq, also before the first revision. */
  get domains(): DomainMap {
    return this.domainSet.map;
  }

  get domainSeq(): number {
    return this.domainSet.seq;
  }

  /** globalHost or an enabled dynamic domain; false before the first revision. */
  isServedDomain(domain: string): boolean {
    const snapshot = this.current;
    if (!snapshot) return false;
    const name = domain.toLowerCase();
    return name === snapshot.config.globalHost || snapshot.domains.get(name)?.enabled === true;
  }

  /**
   * Called after every swap, revision or domains, with the new and the previous snapshot
   * (null on the first). A listener that throws is logged; the swap and the other listeners
   * go on. Returns the function that removes the listener.
   */
  onChange(listener: SnapshotListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Called after each swap that changed dynamic domains (not on the first revision), with
   * what changed: e.g. to close the sessions of a domain just disabled.
   */
  onDomainChange(listener: DomainChangeListener): () => void {
    this.domainListeners.add(listener);
    return () => this.domainListeners.delete(listener);
  }

  /** config-sync only: a validated revision replaces the one in force. */
  installRevision(revision: AppliedRevision): RouterSnapshot {
    const previous = this.current;
    const next: RouterSnapshot = Object.freeze({
      revision: revision.revision,
      hash: revision.hash,
      config: deepFreeze(revision.config),
      domainSeq: this.domainSet.seq,
      domains: this.domainSet.map,
    });
    this.current = next;
    this.notify(next, previous, () => []);
    return next;
  }

  /**
   * config-sync only: the domain set at `seq` replaces the one in force. `changes` lists what
   * differs from the previous set (computed here when not given).
   */
  installDomains(seq: number, map: DomainMap, changes?: readonly DomainChange[]): void {
    const before = this.domainSet.map;
    if (seq === this.domainSet.seq && map === before) return;
    this.domainSet = { seq, map };
    const previous = this.current;
    if (!previous) return;
    const next: RouterSnapshot = Object.freeze({ ...previous, domainSeq: seq, domains: map });
    this.current = next;
    this.notify(next, previous, () => changes ?? map.changesSince(before));
  }

  private notify(
    next: RouterSnapshot,
    previous: RouterSnapshot | null,
    changesOf: () => readonly DomainChange[],
  ): void {
    for (const listener of this.listeners) this.call(listener, () => listener(next, previous));
    if (this.domainListeners.size === 0) return;
    const changes = changesOf();
    if (changes.length === 0) return;
    for (const listener of this.domainListeners) {
      this.call(listener, () => listener(changes, next));
    }
  }

  private call(listener: unknown, invoke: () => void): void {
    try {
      invoke();
      this.listenerFailures.delete(listener);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (this.listenerFailures.get(listener) !== message) {
        this.logger.error(`a configuration listener failed: ${message}`);
        this.listenerFailures.set(listener, message);
      }
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
