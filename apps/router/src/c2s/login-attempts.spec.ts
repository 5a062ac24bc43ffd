import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AttemptGate,
  LoginAttempts,
  MAX_ATTEMPT_WAIT_MS,
  MAX_ATTEMPTS_IN_PROGRESS,
  MAX_ATTEMPTS_WAITING,
} from './login-attempts';

/** Whether each promise has settled, and with what, after pending callbacks ran. */
async function states(promises: Promise<boolean>[]): Promise<(boolean | 'waiting')[]> {
  const seen = promises.map(() => 'waiting' as boolean | 'waiting');
  promises.forEach((p, i) => void p.then((value) => (seen[i] = value)));
  await vi.advanceTimersByTimeAsync(0);
  return seen;
}

describe('AttemptGate', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('lets a few attempts per key in at a time; the next one gets a place as one leaves', async () => {
    const gate = new AttemptGate();
    const entered = Array.from({ length: MAX_ATTEMPTS_IN_PROGRESS + 1 }, () => gate.enter('a'));
    const other = gate.enter('b');
    expect(await states([...entered, other])).toEqual([
      ...Array<boolean>(MAX_ATTEMPTS_IN_PROGRESS).fill(true),
      'waiting',
      true,
    ]);
    gate.leave('a');
    expect((await states(entered)).at(-1)).toBe(true);
    for (let i = 0; i < MAX_ATTEMPTS_IN_PROGRESS; i++) gate.leave('a');
    gate.leave('b');
    // Nothing in progress, nothing remembered.
    expect(gate.size).toBe(0);
  });

  it('refuses at once past the bound of waiting attempts, and after the longest wait', async () => {
    const gate = new AttemptGate();
    const all = Array.from({ length: MAX_ATTEMPTS_IN_PROGRESS + MAX_ATTEMPTS_WAITING + 1 }, () =>
      gate.enter('a'),
    );
    const seen = await states(all);
    expect(seen.filter((s) => s === true)).toHaveLength(MAX_ATTEMPTS_IN_PROGRESS);
    expect(seen.filter((s) => s === 'waiting')).toHaveLength(MAX_ATTEMPTS_WAITING);
    expect(seen.at(-1)).toBe(false);
    await vi.advanceTimersByTimeAsync(MAX_ATTEMPT_WAIT_MS);
    expect((await states(all)).filter((s) => s === false)).toHaveLength(MAX_ATTEMPTS_WAITING + 1);
    // The places in progress are still held; once given back, the key is forgotten.
    for (let i = 0; i < MAX_ATTEMPTS_IN_PROGRESS; i++) gate.leave('a');
    expect(gate.size).toBe(0);
  });
});

describe('LoginAttempts', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('holds a place per address and per account until it is given back', async () => {
    const attempts = new LoginAttempts();
    const leaves = await Promise.all(
      Array.from({ length: MAX_ATTEMPTS_IN_PROGRESS }, (_, i) =>
        attempts.enter(`10.0.0.${i}`, 'victim@example.com'),
      ),
    );
    // The account is full: an attempt at it from a fresh address waits, holding its address.
    let third: (() => void) | null | undefined;
    void attempts.enter('10.0.0.9', 'victim@example.com').then((leave) => (third = leave));
    await vi.advanceTimersByTimeAsync(0);
    expect(third).toBeUndefined();
    expect(attempts.size).toEqual({ addresses: MAX_ATTEMPTS_IN_PROGRESS + 1, accounts: 1 });
    leaves[0]!();
    await vi.advanceTimersByTimeAsync(0);
    expect(third).toBeTypeOf('function');
    third!();
    leaves[1]!();
    expect(attempts.size).toEqual({ addresses: 0, accounts: 0 });
  });

  it('gives the address back when the account cannot be had', async () => {
    const attempts = new LoginAttempts();
    for (let i = 0; i < MAX_ATTEMPTS_IN_PROGRESS + MAX_ATTEMPTS_WAITING; i++) {
      void attempts.enter(`10.1.${i >> 8}.${i & 255}`, 'victim@example.com');
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(await attempts.enter('10.2.0.1', 'victim@example.com')).toBeNull();
    expect(await attempts.enter('10.2.0.1', null)).toBeTypeOf('function');
  });
});
