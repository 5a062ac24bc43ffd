import { LRUCache } from 'lru-cache';

/** Addresses remembered at once; the least recently failed one is forgotten first. */
export const FAILED_AUTH_MAX_ADDRESSES = 10_000;

export interface FailedAuthPolicy {
  /** Failures in one window that lock the address until the window ends. */
  readonly limit: number;
  readonly windowMs: number;
  readonly maxAddresses: number;
}

interface Failures {
  count: number;
  readonly windowEndsAt: number;
}

/**
 * Failed bearer tokens counted per client address, in a fixed window opened by the address's
 * first failure. The failure that reaches `limit` locks the address until its window ends, so
 * one address gets at most `limit` guesses a window. Pure apart from the clock.
 */
export class FailedAuthThrottle {
  // Bounded by address count, not by time: an expired window is simply replaced on the next
  // failure, and a flood of new addresses evicts the least recently failed ones.
  private readonly failures: LRUCache<string, Failures>;

  constructor(
    private readonly policy: FailedAuthPolicy,
    private readonly now: () => number = Date.now,
  ) {
    this.failures = new LRUCache({ max: policy.maxAddresses });
  }

  /** Milliseconds until `address` is unlocked; 0 when it is not locked. */
  lockedFor(address: string): number {
    const failures = this.failures.peek(address);
    if (!failures || failures.count < this.policy.limit) return 0;
    return Math.max(0, failures.windowEndsAt - this.now());
  }

  /** Counts a failure of `address`; true when this very failure locks it. */
  failed(address: string): boolean {
    const now = this.now();
    let failures = this.failures.get(address);
    if (!failures || failures.windowEndsAt <= now) {
      failures = { count: 0, windowEndsAt: now + this.policy.windowMs };
      this.failures.set(address, failures);
    }
    failures.count += 1;
    return failures.count === this.policy.limit;
  }

  /** Addresses remembered (at most `maxAddresses`). */
  get size(): number {
    return this.failures.size;
  }
}
