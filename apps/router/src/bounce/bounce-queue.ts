// Stanzas waiting for a route (mod_global_distrib_bounce), as a pure data structure: items
// grouped per (sender, recipient) pair in arrival order, each pair retried with exponential
// backoff from `resendAfterMs`, `maxRetries` times, and the whole queue bounded by
// `maxQueued`. Time is passed in, so the schedule is testable without timers.

export interface BouncePolicy {
  readonly enabled: boolean;
  readonly resendAfterMs: number;
  readonly maxRetries: number;
  readonly maxQueued: number;
}

/** What may differ per pair: the sender's host type can override bounce. */
export type RetryPolicy = Pick<BouncePolicy, 'enabled' | 'resendAfterMs' | 'maxRetries'>;

export type AddOutcome = 'queued' | 'full' | 'disabled';

interface Pair<T> {
  readonly items: T[];
  /** What the pair waits for a route to (an index key: the recipient's bare JID, say). */
  readonly recipient: string;
  /** The policy the pair was queued under (a host type may override the global one). */
  readonly policy: RetryPolicy;
  /** Retries that found no route so far. */
  attempts: number;
  dueAt: number;
}

export class BounceQueue<T> {
  private readonly pairs = new Map<string, Pair<T>>();
  /** Pair keys by recipient, so a route appearing finds its pairs without a scan. */
  private readonly byRecipient = new Map<string, Set<string>>();
  private count = 0;

  constructor(private policy: BouncePolicy) {}

  setPolicy(policy: BouncePolicy): void {
    this.policy = policy;
  }

  get size(): number {
    return this.count;
  }

  hasPair(key: string): boolean {
    return this.pairs.has(key);
  }

  /**
   * Queues an item behind any others of its pair, under `retry` (the sender's host type's
   * bounce policy, or the global one) for a new pair. 'disabled': bounce is off or allows no
   * retry; 'full': the queue is at its bound. Either way the caller answers with an error.
   * `recipient` indexes a new pair for `keysFor`.
   */
  add(
    key: string,
    item: T,
    now: number,
    retry: RetryPolicy = this.policy,
    recipient = '',
  ): AddOutcome {
    const pair = this.pairs.get(key);
    const policy = pair?.policy ?? retry;
    if (!policy.enabled || policy.maxRetries === 0) return 'disabled';
    // The bound is the node's whatever the pair's policy: so is the memory.
    if (this.count >= this.policy.maxQueued) return 'full';
    if (pair) pair.items.push(item);
    else {
      this.pairs.set(key, {
        items: [item],
        recipient,
        policy,
        attempts: 0,
        dueAt: now + policy.resendAfterMs,
      });
      const keys = this.byRecipient.get(recipient);
      if (keys) keys.add(key);
      else this.byRecipient.set(recipient, new Set([key]));
    }
    this.count++;
    return 'queued';
  }

  /** The pairs queued with this recipient. */
  keysFor(recipient: string): readonly string[] {
    const keys = this.byRecipient.get(recipient);
    return keys ? [...keys] : [];
  }

  /** When a pair's next retry is due (Infinity while one runs); null for no such pair. */
  dueAtOf(key: string): number | null {
    return this.pairs.get(key)?.dueAt ?? null;
  }

  /** Pairs whose next retry is due, oldest first. */
  due(now: number): string[] {
    const due: [string, number][] = [];
    for (const [key, pair] of this.pairs) if (pair.dueAt <= now) due.push([key, pair.dueAt]);
    return due.sort((a, b) => a[1] - b[1]).map(([key]) => key);
  }

  /** When the next retry is due; null when none is scheduled. */
  nextDueAt(): number | null {
    let next: number | null = null;
    for (const pair of this.pairs.values()) {
      if (pair.dueAt !== Infinity && (next === null || pair.dueAt < next)) next = pair.dueAt;
    }
    return next;
  }

  /** A retry of the pair has started: it is not due again until `retryFailed` says when. */
  beginRetry(key: string): void {
    const pair = this.pairs.get(key);
    if (pair) pair.dueAt = Infinity;
  }

  /** The oldest item of a pair: what a retry tries first. */
  peek(key: string): T | undefined {
    return this.pairs.get(key)?.items[0];
  }

  /** Removes and returns a pair's items in arrival order (a route was found, or shutdown). */
  take(key: string): T[] {
    const pair = this.pairs.get(key);
    if (!pair) return [];
    this.pairs.delete(key);
    const keys = this.byRecipient.get(pair.recipient);
    keys?.delete(key);
    if (keys?.size === 0) this.byRecipient.delete(pair.recipient);
    this.count -= pair.items.length;
    return pair.items;
  }

  /**
   * A retry found no route. Schedules the next one (`resendAfterMs * 2^attempts` later) and
   * returns null, or, once `maxRetries` retries have failed, removes and returns the items.
   */
  retryFailed(key: string, now: number): T[] | null {
    const pair = this.pairs.get(key);
    if (!pair) return null;
    pair.attempts++;
    if (pair.attempts >= pair.policy.maxRetries) return this.take(key);
    pair.dueAt = now + pair.policy.resendAfterMs * 2 ** pair.attempts;
    return null;
  }

  keys(): string[] {
    return [...this.pairs.keys()];
  }
}

/** How long a stanza may wait before its sender gets an error: the sum of all retry delays. */
export function bounceBudgetMs(policy: RetryPolicy): number {
  let total = 0;
  for (let attempt = 0; attempt < policy.maxRetries; attempt++)
    total += policy.resendAfterMs * 2 ** attempt;
  return total;
}
