import { describe, expect, it } from 'vitest';
import { DEFAULT_CACHE_POLICY } from './mapping-cache';
import { DEFAULT_REDIS_POLICY, SessionTablePolicy } from './session-table-policy';

describe('SessionTablePolicy', () => {
  it("uses MongooseIM's defaults before the first revision", () => {
    const policy = new SessionTablePolicy();
    expect(policy.redis).toEqual({ expireAfterS: 120, refreshAfterS: 60 });
    expect(policy.cache).toEqual(DEFAULT_CACHE_POLICY);
  });

  it('tells listeners which part changed, and nothing when nothing did', () => {
    const policy = new SessionTablePolicy();
    const changes: unknown[] = [];
    policy.onChange((change) => changes.push(change));
    policy.apply({ cache: { ...DEFAULT_CACHE_POLICY }, redis: { ...DEFAULT_REDIS_POLICY } });
    policy.apply({
      cache: { ...DEFAULT_CACHE_POLICY, jidLifetimeS: 1 },
      redis: { ...DEFAULT_REDIS_POLICY },
    });
    policy.apply({
      cache: { ...DEFAULT_CACHE_POLICY, jidLifetimeS: 1 },
      redis: { expireAfterS: 10, refreshAfterS: 5 },
    });
    expect(changes).toEqual([
      { cache: true, redis: false },
      { cache: false, redis: true },
    ]);
    expect(policy.cache.jidLifetimeS).toBe(1);
    expect(policy.redis).toEqual({ expireAfterS: 10, refreshAfterS: 5 });
  });
});
