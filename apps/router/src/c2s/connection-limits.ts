// Per-IP bounds at the edge: open connections (`limits.maxConnectionsPerIp`), and a growing
// delay before answering failed logins, so guessing tokens from one address is slow. Pure
// apart from the clock passed in.
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

export class FailedAuthThrottle {
  private readonly failures = new LRUCache<string, number>({
    max: 100_000,
    ttl: FORGET_AFTER_MS,
  });

  /** Records a failed login from `ip`; returns how long to wait before answering it. */
  failed(ip: string): number {
    const count = (this.failures.get(ip) ?? 0) + 1;
    this.failures.set(ip, count);
    return Math.min(FAILED_AUTH_MAX_DELAY_MS, FAILED_AUTH_BASE_DELAY_MS * 2 ** (count - 1));
  }
}
