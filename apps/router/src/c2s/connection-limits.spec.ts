import { describe, expect, it } from 'vitest';
import {
  ConnectionsPerIp,
  FAILED_AUTH_BASE_DELAY_MS,
  FAILED_AUTH_MAX_DELAY_MS,
  FAILED_AUTH_MAX_KEYS,
  FailedAuthThrottle,
  FailedLoginsPerAccount,
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

describe('FailedLoginsPerAccount', () => {
  it('grows the delay per account, whatever addresses the failures come from', () => {
    const accounts = new FailedLoginsPerAccount();
    const delays = Array.from({ length: 6 }, () => accounts.failed('alice@example.com'));
    expect(delays).toEqual([1, 2, 4, 8, 16, 20].map((n) => n * FAILED_AUTH_BASE_DELAY_MS));
    expect(delays[0]).toBe(FAILED_AUTH_BASE_DELAY_MS);
    expect(delays.at(-1)).toBe(FAILED_AUTH_MAX_DELAY_MS);
    // Another account starts from the base delay.
    expect(accounts.failed('bob@example.com')).toBe(FAILED_AUTH_BASE_DELAY_MS);
  });

  it('remembers a bounded number of accounts, forgetting the least recently failed', () => {
    const accounts = new FailedLoginsPerAccount();
    accounts.failed('victim@example.com');
    accounts.failed('victim@example.com');
    for (let i = 0; i < FAILED_AUTH_MAX_KEYS + 10; i++) accounts.failed(`u${i}@example.com`);
    expect(accounts.size).toBe(FAILED_AUTH_MAX_KEYS);
    // The victim was pushed out: its count starts again rather than the table growing.
    expect(accounts.failed('victim@example.com')).toBe(FAILED_AUTH_BASE_DELAY_MS);
  });
});
