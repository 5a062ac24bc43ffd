// The per-session shaper (ARCHITECTURE §9): a token bucket of `stanzaBurst` tokens refilled at
// `stanzasPerSecond`. A session with no token left stops reading its socket until one returns;
// nothing is dropped. Pure: the caller passes the clock.

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private ratePerSecond: number,
    private burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.updatedAt = nowMs;
  }

  /** A new revision's limits; the tokens in hand are kept (capped at the new burst). */
  setLimits(ratePerSecond: number, burst: number): void {
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  /** Takes a token and returns 0, or returns how many ms to wait before one is there. */
  take(nowMs: number): number {
    this.refill(nowMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond));
  }

  private refill(nowMs: number): void {
    const elapsed = nowMs - this.updatedAt;
    if (elapsed <= 0) return;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.updatedAt = nowMs;
  }
}
