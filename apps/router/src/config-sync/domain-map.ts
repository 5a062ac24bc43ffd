// The dynamic-domain set as a persistent (immutable, structurally shared) map, so that every
// RouterSnapshot owns a set that never changes under it while applying one domain event
// costs O(1): `with`/`without` copy one root-to-leaf path (three 32-slot arrays and one
// small bucket), never the 100,000 entries. Old snapshots keep their paths alive only as long
// as someone holds them. See docs/config-sync.md for why this over a versioned mutable map.

/** A dynamic domain as control publishes it (ARCHITECTURE §4b). */
export interface DomainState {
  readonly hostType: string;
  readonly enabled: boolean;
}

const BITS = 5;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;
/** 3 levels x 5 bits = 32,768 buckets: ~3 domains per bucket at 100,000, ~30 at a million. */
const LEVELS = 3;

/** `[domain0, state0, domain1, state1, ...]`: flat, so a bucket is one small array. */
type Bucket = readonly (string | DomainState)[];
type Node = readonly (Node | Bucket | undefined)[];

/** FNV-1a: cheap, well spread over domain names, no allocation. */
function hashOf(domain: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < domain.length; i++) {
    hash = Math.imul(hash ^ domain.charCodeAt(i), 0x01000193);
  }
  return hash >>> 0;
}

const slotAt = (hash: number, level: number) => (hash >>> (level * BITS)) & MASK;

function bucketIndex(bucket: Bucket | undefined, domain: string): number {
  if (!bucket) return -1;
  for (let i = 0; i < bucket.length; i += 2) if (bucket[i] === domain) return i;
  return -1;
}

export class DomainMap implements ReadonlyMap<string, DomainState> {
  static readonly EMPTY = new DomainMap(undefined, 0);

  /** Internal: start from DomainMap.EMPTY, DomainMap.from() or a DomainMapBuilder. */
  constructor(
    private readonly root: Node | undefined,
    readonly size: number,
  ) {}

  /** Builds a map from many entries at once, without the per-entry path copies. */
  static from(entries: Iterable<readonly [string, DomainState]>): DomainMap {
    const builder = new DomainMapBuilder();
    for (const [domain, state] of entries) builder.set(domain, state);
    return builder.build();
  }

  get(domain: string): DomainState | undefined {
    const hash = hashOf(domain);
    let node = this.root;
    for (let level = 0; level < LEVELS - 1 && node; level++) {
      node = node[slotAt(hash, level)] as Node | undefined;
    }
    const bucket = node?.[slotAt(hash, LEVELS - 1)] as Bucket | undefined;
    const index = bucketIndex(bucket, domain);
    return index < 0 ? undefined : (bucket![index + 1] as DomainState);
  }

  has(domain: string): boolean {
    return this.get(domain) !== undefined;
  }

  /** A map with `domain` set to `state`; `this` when nothing changes. */
  with(domain: string, state: DomainState): DomainMap {
    const hash = hashOf(domain);
    let grew = false;
    const root = updatePath(this.root, hash, 0, (bucket) => {
      const index = bucketIndex(bucket, domain);
      if (index < 0) {
        grew = true;
        return [...(bucket ?? []), domain, state];
      }
      const current = bucket![index + 1] as DomainState;
      if (current.hostType === state.hostType && current.enabled === state.enabled) return bucket;
      const copy = bucket!.slice();
      copy[index + 1] = state;
      return copy;
    });
    return root === this.root ? this : new DomainMap(root, this.size + (grew ? 1 : 0));
  }

  /** A map without `domain`; `this` when it was absent. */
  without(domain: string): DomainMap {
    const hash = hashOf(domain);
    const root = updatePath(this.root, hash, 0, (bucket) => {
      const index = bucketIndex(bucket, domain);
      if (index < 0) return bucket;
      if (bucket!.length === 2) return undefined;
      return [...bucket!.slice(0, index), ...bucket!.slice(index + 2)];
    });
    return root === this.root ? this : new DomainMap(root, this.size - 1);
  }

  *entries(): MapIterator<[string, DomainState]> {
    for (const bucket of bucketsOf(this.root, 0)) {
      for (let i = 0; i < bucket.length; i += 2) {
        yield [bucket[i] as string, bucket[i + 1] as DomainState];
      }
    }
  }

  *keys(): MapIterator<string> {
    for (const [domain] of this.entries()) yield domain;
  }

  *values(): MapIterator<DomainState> {
    for (const [, state] of this.entries()) yield state;
  }

  [Symbol.iterator](): MapIterator<[string, DomainState]> {
    return this.entries();
  }

  forEach(
    callback: (state: DomainState, domain: string, map: ReadonlyMap<string, DomainState>) => void,
    thisArg?: unknown,
  ): void {
    for (const [domain, state] of this.entries()) callback.call(thisArg, state, domain, this);
  }

  /**
   * What changed from `previous` to this map. Subtrees the two maps share are skipped, so
   * after a few events this costs a few paths, not the whole set.
   */
  changesSince(previous: DomainMap): DomainChange[] {
    const changes: DomainChange[] = [];
    diffNodes(previous.root, this.root, 0, changes);
    return changes;
  }
}

/** One domain whose state differs between two maps; `undefined` means absent. */
export interface DomainChange {
  readonly domain: string;
  readonly previous: DomainState | undefined;
  readonly next: DomainState | undefined;
}

/**
 * Fills a map in place (nothing is shared until build()), for the full load of the set.
 * Entries set twice keep the last state.
 */
export class DomainMapBuilder {
  private root: (Node | Bucket | undefined)[] | undefined;
  private size = 0;
  private built = false;

  set(domain: string, state: DomainState): this {
    if (this.built) throw new Error('DomainMapBuilder: already built');
    const hash = hashOf(domain);
    this.root ??= new Array<Node | undefined>(WIDTH);
    let node = this.root;
    for (let level = 0; level < LEVELS - 1; level++) {
      const slot = slotAt(hash, level);
      node = (node[slot] ??= new Array<Node | undefined>(WIDTH)) as (Node | Bucket | undefined)[];
    }
    const slot = slotAt(hash, LEVELS - 1);
    const bucket = (node[slot] ??= []) as (string | DomainState)[];
    const index = bucketIndex(bucket, domain);
    if (index < 0) {
      bucket.push(domain, state);
      this.size++;
    } else {
      bucket[index + 1] = state;
    }
    return this;
  }

  build(): DomainMap {
    this.built = true;
    return this.size === 0 ? DomainMap.EMPTY : new DomainMap(this.root, this.size);
  }
}

// ---------------------------------------------------------------------------------------------

/** Copies the path to the bucket of `hash`, replacing the bucket with `update`'s result. */
function updatePath(
  node: Node | undefined,
  hash: number,
  level: number,
  update: (bucket: Bucket | undefined) => Bucket | undefined,
): Node | undefined {
  const slot = slotAt(hash, level);
  const child = node?.[slot];
  const next =
    level === LEVELS - 1
      ? update(child as Bucket | undefined)
      : updatePath(child as Node | undefined, hash, level + 1, update);
  if (next === child) return node;
  const copy = node ? node.slice() : new Array<Node | Bucket | undefined>(WIDTH);
  copy[slot] = next;
  // An emptied branch is dropped, so deletions do not leave a skeleton behind.
  return next === undefined && copy.every((entry) => entry === undefined) ? undefined : copy;
}

function* bucketsOf(node: Node | undefined, level: number): Generator<Bucket> {
  if (!node) return;
  for (const child of node) {
    if (child === undefined) continue;
    if (level === LEVELS - 1) yield child as Bucket;
    else yield* bucketsOf(child as Node, level + 1);
  }
}

function diffNodes(
  before: Node | undefined,
  after: Node | undefined,
  level: number,
  changes: DomainChange[],
): void {
  if (before === after) return;
  for (let slot = 0; slot < WIDTH; slot++) {
    const a = before?.[slot];
    const b = after?.[slot];
    if (a === b) continue;
    if (level === LEVELS - 1)
      diffBuckets(a as Bucket | undefined, b as Bucket | undefined, changes);
    else diffNodes(a as Node | undefined, b as Node | undefined, level + 1, changes);
  }
}

function diffBuckets(
  before: Bucket | undefined,
  after: Bucket | undefined,
  changes: DomainChange[],
): void {
  for (let i = 0; i < (before?.length ?? 0); i += 2) {
    const domain = before![i] as string;
    const previous = before![i + 1] as DomainState;
    const j = bucketIndex(after, domain);
    const next = j < 0 ? undefined : (after![j + 1] as DomainState);
    if (!next || next.hostType !== previous.hostType || next.enabled !== previous.enabled) {
      changes.push({ domain, previous, next });
    }
  }
  for (let i = 0; i < (after?.length ?? 0); i += 2) {
    const domain = after![i] as string;
    if (bucketIndex(before, domain) < 0) {
      changes.push({ domain, previous: undefined, next: after![i + 1] as DomainState });
    }
  }
}
