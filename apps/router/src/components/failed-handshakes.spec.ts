import { describe, expect, it } from 'vitest';
import {
  FAILED_AUTH_BASE_DELAY_MS,
  FAILED_AUTH_MAX_DELAY_MS,
  FAILED_AUTH_MAX_KEYS,
} from '../c2s/connection-limits';
import { FailedHandshakes } from './failed-handshakes';

describe('FailedHandshakes', () => {
  it('doubles the delay per wrong handshake from one address, up to a bound', () => {
    const failed = new FailedHandshakes();
    const delays = Array.from({ length: 7 }, (_, i) =>
      failed.failed('10.0.0.1', `c${i}.example.com`),
    );
    expect(delays).toEqual([1, 2, 4, 8, 16, 20, 20].map((n) => n * FAILED_AUTH_BASE_DELAY_MS));
    // The same address written as IPv4-mapped IPv6 is the same address.
    expect(failed.failed('::ffff:10.0.0.1', 'other.example.com')).toBe(FAILED_AUTH_MAX_DELAY_MS);
    expect(failed.failed('10.0.0.2', 'fresh.example.com')).toBe(FAILED_AUTH_BASE_DELAY_MS);
  });

  it('counts IPv6 addresses by their /64: every address of a prefix shares one delay', () => {
    const failed = new FailedHandshakes();
    const delays = ['2001:db8::1', '2001:db8::2', '2001:db8:0:0:ffff::3'].map((address, i) =>
      failed.failed(address, `c${i}.example.com`),
    );
    expect(delays).toEqual([1, 2, 4].map((n) => n * FAILED_AUTH_BASE_DELAY_MS));
    expect(failed.failed('2001:db8:0:1::1', 'fresh.example.com')).toBe(FAILED_AUTH_BASE_DELAY_MS);
  });

  it('grows the delay per domain, whatever addresses the handshakes come from', () => {
    const failed = new FailedHandshakes();
    const delays = Array.from({ length: 4 }, (_, i) =>
      failed.failed(`10.0.1.${i}`, 'muc.example.com'),
    );
    expect(delays).toEqual([1, 2, 4, 8].map((n) => n * FAILED_AUTH_BASE_DELAY_MS));
    expect(failed.failed('10.0.1.9', 'pubsub.example.com')).toBe(FAILED_AUTH_BASE_DELAY_MS);
  });

  it('remembers a bounded number of addresses and domains', () => {
    const failed = new FailedHandshakes();
    for (let i = 0; i < FAILED_AUTH_MAX_KEYS + 10; i++) {
      failed.failed(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `c${i}.example.com`);
    }
    expect(failed.size).toEqual({ addresses: FAILED_AUTH_MAX_KEYS, domains: FAILED_AUTH_MAX_KEYS });
  });
});
