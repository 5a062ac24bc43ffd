import { describe, expect, it } from 'vitest';
import { DEFAULT_CACHE_POLICY, MappingCache } from './mapping-cache';

const policy = (overrides: Partial<typeof DEFAULT_CACHE_POLICY> = {}) => ({
  ...DEFAULT_CACHE_POLICY,
  ...overrides,
});

/** A cache on a hand-driven clock (milliseconds). */
function cacheAt(overrides: Partial<typeof DEFAULT_CACHE_POLICY> = {}) {
  const clock = { now: 0 };
  const cache = new MappingCache(policy(overrides), () => clock.now);
  return { cache, advance: (ms: number) => (clock.now += ms) };
}

describe('MappingCache', () => {
  it("starts with MongooseIM's defaults", () => {
    expect(DEFAULT_CACHE_POLICY).toEqual({
      cacheMissed: true,
      domainLifetimeS: 600,
      jidLifetimeS: 5,
      maxJids: 10000,
    });
  });

  it('keeps a JID mapping jidLifetimeS and a domain mapping domainLifetimeS', () => {
    const { cache, advance } = cacheAt({ jidLifetimeS: 5, domainLifetimeS: 60 });
    cache.set('jid', 'alice@example.com/phone', 'dc1');
    cache.set('domain', 'muc.example.com', 'dc2');
    advance(4_999);
    expect(cache.get('jid', 'alice@example.com/phone')).toBe('dc1');
    advance(1);
    expect(cache.get('jid', 'alice@example.com/phone')).toBeUndefined();
    expect(cache.get('domain', 'muc.example.com')).toBe('dc2');
    advance(55_000);
    expect(cache.get('domain', 'muc.example.com')).toBeUndefined();
  });

  it('leaves a learned mapping alone while it is fresh, renews it past half its life', () => {
    const { cache, advance } = cacheAt({ jidLifetimeS: 10 });
    cache.learn('jid', 'bob@example.com/b', 'dc2');
    advance(4_000);
    cache.learn('jid', 'bob@example.com/b', 'dc2'); // fresh: untouched
    advance(6_000);
    expect(cache.get('jid', 'bob@example.com/b')).toBeUndefined();
    cache.learn('jid', 'bob@example.com/b', 'dc2');
    advance(6_000);
    cache.learn('jid', 'bob@example.com/b', 'dc2'); // past half: renewed
    advance(6_000);
    expect(cache.get('jid', 'bob@example.com/b')).toBe('dc2');
    cache.learn('jid', 'bob@example.com/b', 'dc3'); // another value: written at once
    expect(cache.get('jid', 'bob@example.com/b')).toBe('dc3');
  });

  it('keeps a node mapping as long as a JID mapping', () => {
    const { cache, advance } = cacheAt({ jidLifetimeS: 2 });
    cache.set('node', 'alice@example.com/phone', 'node-a');
    advance(1_999);
    expect(cache.get('node', 'alice@example.com/phone')).toBe('node-a');
    advance(1);
    expect(cache.get('node', 'alice@example.com/phone')).toBeUndefined();
  });

  it('caches a failed lookup no longer than jidLifetimeS, whatever its kind', () => {
    const { cache, advance } = cacheAt({ jidLifetimeS: 3, domainLifetimeS: 600 });
    cache.set('jid', 'bob@example.com', null);
    cache.set('domain', 'pubsub.example.com', null);
    advance(2_999);
    expect(cache.get('jid', 'bob@example.com')).toBeNull();
    expect(cache.get('domain', 'pubsub.example.com')).toBeNull();
    advance(1);
    expect(cache.get('jid', 'bob@example.com')).toBeUndefined();
    expect(cache.get('domain', 'pubsub.example.com')).toBeUndefined();
  });

  it('caches a failed domain lookup for domainLifetimeS when that is shorter', () => {
    const { cache, advance } = cacheAt({ jidLifetimeS: 10, domainLifetimeS: 1 });
    cache.set('domain', 'pubsub.example.com', null);
    advance(1_000);
    expect(cache.get('domain', 'pubsub.example.com')).toBeUndefined();
  });

  it('does not cache failed lookups when cacheMissed is false, nor keep an older answer', () => {
    const { cache } = cacheAt({ cacheMissed: false });
    cache.set('jid', 'bob@example.com', 'dc1');
    cache.set('jid', 'bob@example.com', null);
    expect(cache.get('jid', 'bob@example.com')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('caches nothing of a kind whose lifetime is 0', () => {
    const { cache } = cacheAt({ jidLifetimeS: 0 });
    cache.set('jid', 'alice@example.com', 'dc1');
    cache.set('domain', 'muc.example.com', null);
    expect(cache.get('jid', 'alice@example.com')).toBeUndefined();
    expect(cache.get('domain', 'muc.example.com')).toBeUndefined();
  });

  it('applies a shorter lifetime to entries already cached', () => {
    const { cache, advance } = cacheAt({ domainLifetimeS: 600 });
    cache.set('domain', 'muc.example.com', 'dc1');
    advance(10_000);
    cache.setPolicy(policy({ domainLifetimeS: 5 }));
    expect(cache.get('domain', 'muc.example.com')).toBeUndefined();
  });

  it('evicts the least recently used entry beyond maxJids, not the whole table', () => {
    const { cache } = cacheAt({ maxJids: 3 });
    cache.set('jid', 'a@x', 'dc1');
    cache.set('jid', 'b@x', 'dc1');
    cache.set('jid', 'c@x', 'dc1');
    expect(cache.get('jid', 'a@x')).toBe('dc1'); // a is now the most recently used
    cache.set('jid', 'd@x', 'dc2');
    expect(cache.size).toBe(3);
    expect(cache.get('jid', 'b@x')).toBeUndefined();
    expect(cache.get('jid', 'a@x')).toBe('dc1');
    expect(cache.get('jid', 'c@x')).toBe('dc1');
    expect(cache.get('jid', 'd@x')).toBe('dc2');
  });

  it('keeps the most recently used entries when maxJids shrinks, and grows without loss', () => {
    const { cache } = cacheAt({ maxJids: 4 });
    for (const name of ['a', 'b', 'c', 'd']) cache.set('jid', `${name}@x`, 'dc1');
    cache.get('jid', 'a@x');
    cache.setPolicy(policy({ maxJids: 2 }));
    expect(cache.size).toBe(2);
    expect(cache.get('jid', 'a@x')).toBe('dc1');
    expect(cache.get('jid', 'd@x')).toBe('dc1');
    cache.setPolicy(policy({ maxJids: 10 }));
    for (const name of ['e', 'f', 'g']) cache.set('jid', `${name}@x`, 'dc1');
    expect(cache.size).toBe(5);
  });

  it('overwrites a miss with a learned origin', () => {
    const { cache } = cacheAt();
    cache.set('jid', 'carol@example.com/laptop', null);
    cache.set('jid', 'carol@example.com/laptop', 'dc3');
    expect(cache.get('jid', 'carol@example.com/laptop')).toBe('dc3');
  });

  it('drops every kind of entry for a key, and only that key', () => {
    const { cache } = cacheAt();
    cache.set('jid', 'alice@example.com/phone', 'dc1');
    cache.set('node', 'alice@example.com/phone', 'node-a');
    cache.set('jid', 'alice@example.com', 'dc1');
    cache.drop('alice@example.com/phone');
    expect(cache.get('jid', 'alice@example.com/phone')).toBeUndefined();
    expect(cache.get('node', 'alice@example.com/phone')).toBeUndefined();
    expect(cache.get('jid', 'alice@example.com')).toBe('dc1');
  });

  it('marks a read in progress stale when its key is dropped or the cache cleared', () => {
    const { cache } = cacheAt();
    const dropped = cache.beginRead('alice@example.com');
    const untouched = cache.beginRead('bob@example.com');
    cache.drop('alice@example.com');
    expect(dropped.dropped).toBe(true);
    expect(untouched.dropped).toBe(false);
    cache.clear();
    expect(untouched.dropped).toBe(true);
    cache.endRead(dropped);
    cache.endRead(untouched);
    expect(cache.beginRead('alice@example.com').dropped).toBe(false);
  });

  it('tells a resource containing spaces apart from the kind prefix', () => {
    const { cache } = cacheAt();
    cache.set('jid', 'node x@y/z', 'dc1');
    expect(cache.get('node', 'x@y/z')).toBeUndefined();
  });
});
