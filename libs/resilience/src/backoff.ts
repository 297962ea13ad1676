/** Exponential backoff bounds: the n-th retry waits at most min(capMs, baseMs × 2^n). */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/**
 * Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): a uniformly random delay in
 * [0, min(cap, base × 2^retry)). Spreads the retries of many callers that failed at the same instant, so they do not
 * come back together as a second wave. `retry` counts from 0 (the first retry).
 */
export function fullJitterDelay(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}
