import { describe, expect, it } from 'vitest';
import {
  ConnectionsPerIp,
  FAILED_AUTH_BASE_DELAY_MS,
  FAILED_AUTH_MAX_DELAY_MS,
  FailedAuthThrottle,
} from './connection-limits';

describe('ConnectionsPerIp', () => {
  it('caps open connections per address and counts releases', () => {
    const limits = new ConnectionsPerIp();
    expect(limits.tryAcquire('10.0.0.1', 2)).toBe(true);
    expect(limits.tryAcquire('10.0.0.1', 2)).toBe(true);
    expect(limits.tryAcquire('10.0.0.1', 2)).toBe(false);
    expect(limits.tryAcquire('10.0.0.2', 2)).toBe(true);
    limits.release('10.0.0.1');
    expect(limits.tryAcquire('10.0.0.1', 2)).toBe(true);
    limits.release('10.0.0.2');
    expect(limits.count('10.0.0.2')).toBe(0);
  });
});

describe('FailedAuthThrottle', () => {
  it('doubles the delay per failure from one address, up to a bound', () => {
    const throttle = new FailedAuthThrottle();
    const delays = Array.from({ length: 8 }, () => throttle.failed('10.0.0.1'));
    expect(delays[0]).toBe(FAILED_AUTH_BASE_DELAY_MS);
    expect(delays[1]).toBe(2 * FAILED_AUTH_BASE_DELAY_MS);
    expect(delays.at(-1)).toBe(FAILED_AUTH_MAX_DELAY_MS);
    expect(throttle.failed('10.0.0.2')).toBe(FAILED_AUTH_BASE_DELAY_MS);
  });
});
