import { describe, expect, it } from 'vitest';
import { nextRefreshDelayMs, planRefresh, poolsToCollect, type PoolView } from './pool-plan';

const pools = (entries: [string, PoolView][]) => new Map(entries);
const active = (idle = true): PoolView => ({ state: 'active', idle });
const disabled = (idle = true): PoolView => ({ state: 'disabled', idle });

describe('planRefresh', () => {
  it('opens a pool for each new endpoint', () => {
    expect(planRefresh(pools([]), ['a:1', 'b:1'])).toEqual({
      open: ['a:1', 'b:1'],
      disable: [],
      enable: [],
    });
  });

  it('leaves known endpoints alone', () => {
    expect(planRefresh(pools([['a:1', active()]]), ['a:1'])).toEqual({
      open: [],
      disable: [],
      enable: [],
    });
  });

  it('disables the pool of a vanished endpoint, busy or not', () => {
    const plan = planRefresh(
      pools([
        ['a:1', active(false)],
        ['b:1', active()],
      ]),
      ['b:1', 'c:1'],
    );
    expect(plan).toEqual({ open: ['c:1'], disable: ['a:1'], enable: [] });
  });

  it('enables a disabled pool whose endpoint came back instead of opening another', () => {
    const plan = planRefresh(pools([['a:1', disabled()]]), ['a:1']);
    expect(plan).toEqual({ open: [], disable: [], enable: ['a:1'] });
  });

  it('disables everything when the list comes back empty', () => {
    const plan = planRefresh(
      pools([
        ['a:1', active()],
        ['b:1', disabled()],
      ]),
      [],
    );
    expect(plan).toEqual({ open: [], disable: ['a:1'], enable: [] });
  });

  it('ignores duplicate endpoints in the list', () => {
    expect(planRefresh(pools([]), ['a:1', 'a:1']).open).toEqual(['a:1']);
  });
});

describe('poolsToCollect', () => {
  it('closes idle disabled pools, drains busy ones, never touches active ones', () => {
    const state = pools([
      ['active-idle:1', active(true)],
      ['active-busy:1', active(false)],
      ['disabled-busy:1', disabled(false)],
      ['disabled-idle:1', disabled(true)],
    ]);
    expect(poolsToCollect(state)).toEqual({ idle: ['disabled-idle:1'], busy: ['disabled-busy:1'] });
  });
});

describe('nextRefreshDelayMs', () => {
  const intervals = {
    refreshIntervalMs: 60_000,
    cleanStartRefreshIntervalMs: 3_000,
    waitingPollMs: 250,
  };

  it('uses the refresh interval once endpoints are known', () => {
    expect(nextRefreshDelayMs(2, false, intervals)).toBe(60_000);
    expect(nextRefreshDelayMs(2, true, intervals)).toBe(60_000);
  });

  it('uses the clean-start interval while the list is empty', () => {
    expect(nextRefreshDelayMs(0, false, intervals)).toBe(3_000);
  });

  it('polls faster while a send waits for an endpoint', () => {
    expect(nextRefreshDelayMs(0, true, intervals)).toBe(250);
    expect(nextRefreshDelayMs(0, true, { ...intervals, cleanStartRefreshIntervalMs: 100 })).toBe(
      100,
    );
  });
});
