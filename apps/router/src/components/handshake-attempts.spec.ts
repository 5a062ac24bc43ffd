import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MAX_ATTEMPT_WAIT_MS,
  MAX_ATTEMPTS_IN_PROGRESS,
  MAX_ATTEMPTS_WAITING,
} from '../c2s/login-attempts';
import { HandshakeAttempts } from './handshake-attempts';

type Leave = (() => void) | null;

describe('HandshakeAttempts', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('checks a few handshakes per address at a time, whatever domains they ask for', async () => {
    const attempts = new HandshakeAttempts();
    const leaves = await Promise.all(
      Array.from({ length: MAX_ATTEMPTS_IN_PROGRESS }, (_, i) =>
        attempts.enter('10.0.0.1', `c${i}.example.com`),
      ),
    );
    // The same address written as IPv4-mapped IPv6 waits in the same line.
    let next: Leave | undefined;
    void attempts.enter('::ffff:10.0.0.1', 'other.example.com').then((leave) => (next = leave));
    await vi.advanceTimersByTimeAsync(0);
    expect(next).toBeUndefined();
    expect(await attempts.enter('10.0.0.2', 'other.example.com')).toBeTypeOf('function');
    leaves[0]!();
    await vi.advanceTimersByTimeAsync(0);
    expect(next).toBeTypeOf('function');
  });

  it('counts IPv6 addresses by their /64', async () => {
    const attempts = new HandshakeAttempts();
    await Promise.all(
      Array.from({ length: MAX_ATTEMPTS_IN_PROGRESS }, (_, i) =>
        attempts.enter(`2001:db8::${i + 1}`, `c${i}.example.com`),
      ),
    );
    let next: Leave | undefined;
    void attempts.enter('2001:db8::ffff:9', 'other.example.com').then((leave) => (next = leave));
    await vi.advanceTimersByTimeAsync(0);
    expect(next).toBeUndefined();
    expect(await attempts.enter('2001:db8:0:1::1', 'other.example.com')).toBeTypeOf('function');
  });

  it('checks a few handshakes per domain at a time, from however many addresses', async () => {
    const attempts = new HandshakeAttempts();
    const leaves = await Promise.all(
      Array.from({ length: MAX_ATTEMPTS_IN_PROGRESS }, (_, i) =>
        attempts.enter(`10.0.0.${i}`, 'muc.example.com'),
      ),
    );
    let next: Leave | undefined;
    void attempts.enter('10.0.0.9', 'muc.example.com').then((leave) => (next = leave));
    await vi.advanceTimersByTimeAsync(0);
    expect(next).toBeUndefined();
    expect(attempts.size).toEqual({ addresses: MAX_ATTEMPTS_IN_PROGRESS + 1, domains: 1 });
    await vi.advanceTimersByTimeAsync(MAX_ATTEMPT_WAIT_MS);
    // Refused after the longest wait, its address given back.
    expect(next).toBeNull();
    for (const leave of leaves) leave!();
    expect(attempts.size).toEqual({ addresses: 0, domains: 0 });
  });

  it('refuses at once past the bound of waiting handshakes', async () => {
    const attempts = new HandshakeAttempts();
    for (let i = 0; i < MAX_ATTEMPTS_IN_PROGRESS + MAX_ATTEMPTS_WAITING; i++) {
      void attempts.enter('10.0.0.1', `c${i}.example.com`);
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(await attempts.enter('10.0.0.1', 'fresh.example.com')).toBeNull();
    expect(await attempts.enter('10.0.0.2', 'fresh.example.com')).toBeTypeOf('function');
  });
});
