import { describe, expect, it } from 'vitest';
import { reconnectDelayMs } from './backoff';

const policy = { initialMs: 100, maxMs: 10_000 };

describe('reconnectDelayMs', () => {
  it('doubles the step per attempt, between half and all of it', () => {
    expect(reconnectDelayMs(1, policy, () => 0)).toBe(50);
    expect(reconnectDelayMs(1, policy, () => 1)).toBe(100);
    expect(reconnectDelayMs(2, policy, () => 0)).toBe(100);
    expect(reconnectDelayMs(4, policy, () => 0.5)).toBe(600); // step 800
  });

  it('stops growing at maxMs, even after very many attempts', () => {
    expect(reconnectDelayMs(8, policy, () => 1)).toBe(10_000);
    expect(reconnectDelayMs(1_000, policy, () => 0)).toBe(5_000);
  });

  it('treats attempt 0 or below as the first', () => {
    expect(reconnectDelayMs(0, policy, () => 1)).toBe(100);
  });

  it('spreads peers retrying at once', () => {
    const delays = new Set(Array.from({ length: 50 }, () => reconnectDelayMs(5, policy)));
    expect(delays.size).toBeGreaterThan(10);
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(800);
  });
});
