// Reconnect delays: exponential, with "equal jitter" (half the step fixed, half random) so the
// nodes of a datacenter that lost a peer together do not all redial it in the same instant,
// while each still waits at least half a step.

export interface BackoffPolicy {
  /** Step of the first retry. */
  initialMs: number;
  /** Largest step. */
  maxMs: number;
}

/** Delay before reconnect attempt `attempt` (1 for the first retry). */
export function reconnectDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const doublings = Math.min(Math.max(attempt, 1) - 1, 30);
  const step = Math.min(policy.maxMs, policy.initialMs * 2 ** doublings);
  return Math.round(step / 2 + (random() * step) / 2);
}
