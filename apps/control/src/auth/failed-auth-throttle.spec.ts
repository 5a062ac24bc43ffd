import { describe, expect, it } from 'vitest';
import { FailedAuthThrottle } from './failed-auth-throttle';

function throttle(maxAddresses = 100) {
  const clock = { now: 1_000_000 };
  const t = new FailedAuthThrottle({ limit: 3, windowMs: 60_000, maxAddresses }, () => clock.now);
  return { t, clock };
}

describe('FailedAuthThrottle', () => {
  it('locks an address on its limit-th failure until its window ends', () => {
    const { t, clock } = throttle();
    expect(t.failed('10.0.0.1')).toBe(false);
    clock.now += 10_000;
    expect(t.failed('10.0.0.1')).toBe(false);
    expect(t.lockedFor('10.0.0.1')).toBe(0);
    expect(t.failed('10.0.0.1')).toBe(true);
    // The window opened with the first failure, 10 s ago.
    expect(t.lockedFor('10.0.0.1')).toBe(50_000);
    clock.now += 50_000;
    expect(t.lockedFor('10.0.0.1')).toBe(0);
  });

  it('starts a new window after the old one ends, so old failures do not add up', () => {
    const { t, clock } = throttle();
    t.failed('10.0.0.1');
    t.failed('10.0.0.1');
    clock.now += 60_000;
    expect(t.failed('10.0.0.1')).toBe(false);
    expect(t.failed('10.0.0.1')).toBe(false);
    expect(t.lockedFor('10.0.0.1')).toBe(0);
    expect(t.failed('10.0.0.1')).toBe(true);
  });

  it('reports a lock once, however many failures follow', () => {
    const { t } = throttle();
    const locks = Array.from({ length: 10 }, () => t.failed('10.0.0.1')).filter(Boolean);
    expect(locks).toHaveLength(1);
  });

  it('counts each address on its own', () => {
    const { t } = throttle();
    for (let i = 0; i < 3; i++) t.failed('10.0.0.1');
    expect(t.lockedFor('10.0.0.1')).toBeGreaterThan(0);
    expect(t.lockedFor('10.0.0.2')).toBe(0);
    expect(t.failed('10.0.0.2')).toBe(false);
  });

  it('remembers at most maxAddresses, forgetting the least recently failed first', () => {
    const { t } = throttle(3);
    for (let i = 0; i < 3; i++) t.failed('10.0.0.1');
    for (let n = 2; n <= 1000; n++) t.failed(`10.0.${n >> 8}.${n & 255}`);
    expect(t.size).toBe(3);
    expect(t.lockedFor('10.0.0.1')).toBe(0);
  });
});
