// The ordering rules of the dynamic-domain stream (ARCHITECTURE §4b), with no I/O: events
// apply strictly in `seq` order, each once; an event ahead of the next one is held and a
// repair is asked for; what a repair fetches is merged with what was held; a set loaded in
// full replaces the state only if it is not older. DomainSync does the Redis side.
import { decodeDomainState, type PublishedDomainEvent } from '#redis-keys';
import { DomainMap, type DomainState } from './domain-map';

/** `{ seq, op: 'reload' }`: control rewrote the whole set; reload it. */
export interface DomainReloadNotice {
  readonly seq: number;
  readonly op: 'reload';
}

export type DomainNotice = PublishedDomainEvent | DomainReloadNotice;

/** What the caller must do after a notice. */
export type DomainLogAction = 'none' | 'repair' | 'reload';

/** Held events beyond this (a long stall) are dropped for a full reload instead. */
export const MAX_HELD_EVENTS = 50_000;

const HOST_TYPE = /^[^|]{1,255}$/;

/** A notice read from the channel or the events list, or null when it is not one. */
export function parseDomainNotice(raw: string): DomainNotice | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { seq, op, domain, hostType, enabled } = value as Record<string, unknown>;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return null;
  if (op === 'reload') return { seq, op };
  if (typeof domain !== 'string' || domain.length === 0) return null;
  if (op === 'delete') return { seq, op, domain };
  if (op !== 'upsert' || typeof hostType !== 'string' || !HOST_TYPE.test(hostType)) return null;
  if (typeof enabled !== 'boolean') return null;
  return { seq, op, domain, hostType, enabled };
}

/** States are shared between domains: 100,000 domains have a handful of distinct states. */
const states = new Map<string, DomainState>();
export function domainState(hostType: string, enabled: boolean): DomainState {
  const key = `${hostType}|${enabled ? 1 : 0}`;
  let state = states.get(key);
  if (!state) {
    state = Object.freeze({ hostType, enabled });
    // Bounded by the host types in use; a runaway would only cost memory, so cap it anyway.
    if (states.size < 10_000) states.set(key, state);
  }
  return state;
}

/** A `meridian:domains` hash value, shared like domainState(). */
export function decodeHashValue(value: string): DomainState {
  const { hostType, enabled } = decodeDomainState(value);
  return domainState(hostType, enabled);
}

export function applyDomainEvent(map: DomainMap, event: PublishedDomainEvent): DomainMap {
  return event.op === 'delete'
    ? map.without(event.domain)
    : map.with(event.domain, domainState(event.hostType!, event.enabled!));
}

export class DomainLog {
  private held = new Map<number, PublishedDomainEvent>();

  constructor(
    private appliedSeq = 0,
    private map: DomainMap = DomainMap.EMPTY,
  ) {}

  get seq(): number {
    return this.appliedSeq;
  }

  get domains(): DomainMap {
    return this.map;
  }

  /** Events waiting for the ones before them. */
  get heldCount(): number {
    return this.held.size;
  }

  /** The highest seq seen so far, applied or held. */
  get highestSeen(): number {
    let highest = this.appliedSeq;
    for (const seq of this.held.keys()) if (seq > highest) highest = seq;
    return highest;
  }

  /**
   * A notice from the channel. The next event is applied at once (with any held ones that
   * follow it); an older one is ignored; one further ahead is held and a repair asked for.
   */
  receive(notice: DomainNotice): DomainLogAction {
    if (notice.seq <= this.appliedSeq) return 'none';
    if (notice.op === 'reload') return 'reload';
    if (notice.seq === this.appliedSeq + 1) {
      this.apply(notice);
      this.drainHeld();
      return this.held.size > 0 ? 'repair' : 'none';
    }
    this.held.set(notice.seq, notice);
    if (this.held.size > MAX_HELD_EVENTS) {
      this.held.clear();
      return 'reload';
    }
    return 'repair';
  }

  /**
   * Events read back from Redis (in any order, possibly with duplicates) up to `targetSeq`.
   * Applies the run that follows the applied seq. `reload` when that run does not reach
   * `targetSeq`: the events in between are gone and only a full load can fill the gap.
   */
  catchUp(events: Iterable<PublishedDomainEvent>, targetSeq: number): 'done' | 'reload' {
    for (const event of events) {
      if (event.seq > this.appliedSeq && !this.held.has(event.seq)) this.held.set(event.seq, event);
    }
    this.drainHeld();
    return this.appliedSeq >= targetSeq ? 'done' : 'reload';
  }

  /**
   * The full set, read at `seq`. Refused (false) when older than what is applied: the
   * stream never goes backwards, even if Redis does (restart without persistence).
   */
  replace(seq: number, map: DomainMap): boolean {
    if (seq < this.appliedSeq) return false;
    this.appliedSeq = seq;
    this.map = map;
    for (const held of this.held.keys()) if (held <= seq) this.held.delete(held);
    this.drainHeld();
    return true;
  }

  private apply(event: PublishedDomainEvent): void {
    this.map = applyDomainEvent(this.map, event);
    this.appliedSeq = event.seq;
  }

  private drainHeld(): void {
    for (;;) {
      const next = this.held.get(this.appliedSeq + 1);
      if (!next) break;
      this.held.delete(next.seq);
      this.apply(next);
    }
    // Anything left at or below the applied seq is a duplicate.
    if (this.held.size > 0) {
      for (const seq of this.held.keys()) if (seq <= this.appliedSeq) this.held.delete(seq);
    }
  }
}
