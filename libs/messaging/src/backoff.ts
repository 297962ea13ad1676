/** Retry backoff for a failing handler: exponential with full jitter, so retries of many consumers spread out. */
export interface BackoffPolicy {
  /** The ceiling of the first retry's delay. */
  initialMs: number;
  /** No delay exceeds this, however many attempts failed. */
  maxMs: number;
}

/** 100 ms doubles to 5 s: a handler's transient failure (a lock, a restarting database) usually clears within that. */
export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({ initialMs: 100, maxMs: 5000 });

/** The delay before retry number `attempt` (1 = after the first failure): uniform in [0, min(max, initial·2^(attempt-1))]. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
