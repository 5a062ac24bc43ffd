// The endpoint refresh and the garbage collection of pools, as decisions on plain data
// (ARCHITECTURE §7): a new endpoint gets a new pool, a vanished one is disabled (new traffic
// avoids it, queued frames still go out), a disabled one that reappears is enabled again, and
// the GC closes disabled pools once they are idle (draining the busy ones first).

export type PoolState = 'active' | 'disabled';

export interface PoolView {
  readonly state: PoolState;
  /** Nothing queued and no send waiting for room. */
  readonly idle: boolean;
}

export interface RefreshPlan {
  open: string[];
  disable: string[];
  enable: string[];
}

/** What to do with the pools (by endpoint key) given the endpoints just read. */
export function planRefresh(
  pools: ReadonlyMap<string, PoolView>,
  endpointKeys: Iterable<string>,
): RefreshPlan {
  const wanted = new Set(endpointKeys);
  const plan: RefreshPlan = { open: [], disable: [], enable: [] };
  for (const key of wanted) {
    const pool = pools.get(key);
    if (!pool) plan.open.push(key);
    else if (pool.state === 'disabled') plan.enable.push(key);
  }
  for (const [key, pool] of pools) {
    if (pool.state === 'active' && !wanted.has(key)) plan.disable.push(key);
  }
  return plan;
}

/**
 * What the GC does with the disabled pools: idle ones are closed now; busy ones are retired
 * (they write what they hold, then close), so frames queued for an endpoint that died are not
 * held forever: after drainTimeoutMs they go to the destination's current pools.
 */
export function poolsToCollect(pools: ReadonlyMap<string, PoolView>): {
  idle: string[];
  busy: string[];
} {
  const collected = { idle: [] as string[], busy: [] as string[] };
  for (const [key, pool] of pools) {
    if (pool.state === 'disabled') (pool.idle ? collected.idle : collected.busy).push(key);
  }
  return collected;
}

export interface RefreshIntervals {
  refreshIntervalMs: number;
  cleanStartRefreshIntervalMs: number;
  /** While a send waits for a first endpoint. */
  waitingPollMs: number;
}

/** When to read the endpoints again. */
export function nextRefreshDelayMs(
  activePools: number,
  sendsWaiting: boolean,
  intervals: RefreshIntervals,
): number {
  if (activePools > 0) return intervals.refreshIntervalMs;
  if (sendsWaiting) {
    return Math.min(intervals.waitingPollMs, intervals.cleanStartRefreshIntervalMs);
  }
  return intervals.cleanStartRefreshIntervalMs;
}
