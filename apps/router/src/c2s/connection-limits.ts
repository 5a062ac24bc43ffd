// Bounds at the edge: open connections per IP address (`limits.maxConnectionsPerIp`, each
// address apart), and a growing delay before answering failed logins, per address (an IPv6
// one by its /64, as throttleKey gives it) and per account, so guessing tokens is slow from
// one address and for one account from many. Pure apart from the clock.
import { LRUCache } from 'lru-cache';

export class ConnectionsPerIp {
  private readonly open = new Map<string, number>();

  /** Counts a connection from `ip` unless it already has `max`. */
  tryAcquire(ip: string, max: number): boolean {
    const count = this.open.get(ip) ?? 0;
    if (count >= max) return false;
    this.open.set(ip, count + 1);
    return true;
  }

  release(ip: string): void {
    const count = this.open.get(ip) ?? 0;
    if (count <= 1) this.open.delete(ip);
    else this.open.set(ip, count - 1);
  }

  count(ip: string): number {
    return this.open.get(ip) ?? 0;
  }
}

/** First failure waits this long; each further one (within FORGET_AFTER_MS) twice as long. */
export const FAILED_AUTH_BASE_DELAY_MS = 100;
export const FAILED_AUTH_MAX_DELAY_MS = 2_000;
const FORGET_AFTER_MS = 60_000;

/** Keys remembered by each throttle; the least recently failed are forgotten first. */
export const FAILED_AUTH_MAX_KEYS = 100_000;

/**
 * Failed logins counted by a key (an address as throttleKey gives it), each answered a little
 * later than the last.
 */
export class FailedAuthThrottle {
  private readonly failures = new LRUCache<string, number>({
    max: FAILED_AUTH_MAX_KEYS,
    ttl: FORGET_AFTER_MS,
  });

  /** Records a failed login for `key`; returns how long to wait before answering it. */
  failed(key: string): number {
    const count = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, count);
    return Math.min(FAILED_AUTH_MAX_DELAY_MS, FAILED_AUTH_BASE_DELAY_MS * 2 ** (count - 1));
  }

  /** Keys currently remembered (bounded by FAILED_AUTH_MAX_KEYS). */
  get size(): number {
    return this.failures.size;
  }
}

/**
 * Failed logins per account, keyed by the normalised bare JID: a guesser spreading one
 * account's attempts over many addresses meets the same growing delay as from one address.
 * Only failures wait, so the account's owner logs in as fast as ever.
 */
export class FailedLoginsPerAccount extends FailedAuthThrottle {}
