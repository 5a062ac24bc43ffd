import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { NodeRegistry } from './node-registry';
import { RETRY_AFTER_FAILURE_MS, SessionRefresher } from './session-refresher';
import type { SessionStore } from './session-store';
import { DEFAULT_CACHE_POLICY } from './mapping-cache';
import { SessionTablePolicy } from './session-table-policy';
import type { SessionTableRedis } from './session-table-redis';

/** A refresher over stubs that record each refresh; `fail` makes the next ones throw. */
function refresherWith(live: string[] = ['node-a']) {
  const policy = new SessionTablePolicy();
  const state = {
    refreshes: 0,
    fail: false,
    reaped: [] as string[],
    live: new Set(live),
    swept: 0,
  };
  const registry = {
    register: async () => {
      if (state.fail) throw new Error('Redis down');
    },
    reapDeadNodes: async () => state.reaped,
    liveNodesHere: async () => state.live,
  } as unknown as NodeRegistry;
  const store = {
    refresh: async () => {
      state.refreshes++;
    },
    sweepDeadResources: async () => {
      state.swept++;
      return 0;
    },
  } as unknown as SessionStore;
  const restored: (() => void)[] = [];
  const redis = {
    onRestored: (listener: () => void) => restored.push(listener),
  } as unknown as SessionTableRedis;
  return {
    policy,
    state,
    refresher: new SessionRefresher(policy, registry, store, redis),
    /** What SessionTableRedis does when its connection is ready again after closing. */
    restoreRedis: () => restored.forEach((listener) => listener()),
  };
}

const redisPolicy = (expireAfterS: number, refreshAfterS: number) => ({
  cache: DEFAULT_CACHE_POLICY,
  redis: { expireAfterS, refreshAfterS },
});

describe('SessionRefresher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('rewrites the keys at once when Redis is back (it may have restarted empty)', async () => {
    const { state, refresher, restoreRedis } = refresherWith();
    refresher.onApplicationBootstrap();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(state.refreshes).toBe(0);
    restoreRedis();
    await vi.advanceTimersByTimeAsync(0);
    expect(state.refreshes).toBe(1);
    // The period starts again from there.
    await vi.advanceTimersByTimeAsync(59_999);
    expect(state.refreshes).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(state.refreshes).toBe(2);
    await refresher.stop();
  });

  it('refreshes every refreshAfterS once started', async () => {
    const { state, refresher } = refresherWith();
    refresher.onApplicationBootstrap();
    await vi.advanceTimersByTimeAsync(59_999);
    expect(state.refreshes).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(state.refreshes).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(state.refreshes).toBe(2);
    await refresher.stop();
  });

  it('refreshes at once on a new redis policy and then keeps the new period', async () => {
    const { policy, state, refresher } = refresherWith();
    refresher.onApplicationBootstrap();
    await vi.advanceTimersByTimeAsync(50_000);
    policy.apply(redisPolicy(20, 10));
    await vi.advanceTimersByTimeAsync(0);
    expect(state.refreshes).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(state.refreshes).toBe(2);
    policy.apply({ ...redisPolicy(20, 10), cache: { ...DEFAULT_CACHE_POLICY, maxJids: 5 } });
    await vi.advanceTimersByTimeAsync(0);
    expect(state.refreshes).toBe(2); // a cache-only change does not refresh
    await refresher.stop();
  });

  it('does nothing before it is started (config may be applied before boot ends)', async () => {
    const { policy, state } = refresherWith();
    policy.apply(redisPolicy(20, 10));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(state.refreshes).toBe(0);
  });

  it('retries sooner after a failure, and logs the outage once', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const { state, refresher } = refresherWith();
    state.fail = true;
    refresher.onApplicationBootstrap();
    await vi.advanceTimersByTimeAsync(60_000 + 2 * RETRY_AFTER_FAILURE_MS);
    expect(state.refreshes).toBe(0);
    expect(warn).toHaveBeenCalledTimes(1);
    state.fail = false;
    await vi.advanceTimersByTimeAsync(RETRY_AFTER_FAILURE_MS);
    expect(state.refreshes).toBe(1);
    expect(log).toHaveBeenCalledWith('Session table refresh succeeded again');
    await refresher.stop();
    warn.mockRestore();
    log.mockRestore();
  });

  it('sweeps dead resources when a node was reaped or vanished', async () => {
    const { state, refresher } = refresherWith(['node-a', 'node-b']);
    refresher.onApplicationBootstrap();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(state.swept).toBe(0);
    state.live = new Set(['node-a']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(state.swept).toBe(1);
    state.reaped = ['node-c'];
    await vi.advanceTimersByTimeAsync(60_000);
    expect(state.swept).toBe(2);
    await refresher.stop();
  });

  it('stops refreshing after stop()', async () => {
    const { state, refresher } = refresherWith();
    refresher.onApplicationBootstrap();
    await refresher.stop();
    refresher.refreshNow();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(state.refreshes).toBe(0);
  });
});
