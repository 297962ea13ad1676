import type { BucketLimit, BucketState } from './redis-rate-limiter';

/** What to do with a request when the limiter cannot answer (Redis unreachable or slower than its timeout). */
export type FailurePolicy = 'fail-open' | 'fail-closed';
export const FAILURE_POLICIES = ['fail-open', 'fail-closed'] as const satisfies readonly FailurePolicy[];

/** Every outcome of a limited request; also the `decision` label of rate_limit_decisions_total. */
export type RateLimitDecisionKind = 'allowed' | 'limited' | 'fail_open' | 'fail_closed';
export const DECISIONS = [
  'allowed',
  'limited',
  'fail_open',
  'fail_closed',
] as const satisfies readonly RateLimitDecisionKind[];

export type RateLimitDecision =
  { kind: 'allowed' | 'limited'; state: BucketState } | { kind: 'fail_open' | 'fail_closed'; error: unknown };

/** Anything that can take a token: the Redis limiter, or a fake in unit specs. */
export interface TokenTaker {
  take(key: string, limit: BucketLimit): Promise<BucketState>;
}

/** Asks the bucket once; a failure becomes the route's failure policy instead of an error. */
export async function decide(
  limiter: TokenTaker,
  key: string,
  limit: BucketLimit,
  onFailure: FailurePolicy,
): Promise<RateLimitDecision> {
  try {
    const state = await limiter.take(key, limit);
    return { kind: state.allowed ? 'allowed' : 'limited', state };
  } catch (error) {
    return { kind: onFailure === 'fail-open' ? 'fail_open' : 'fail_closed', error };
  }
}

/** Whether the request goes on to its handler. */
export const admits = (decision: RateLimitDecision): boolean =>
  decision.kind === 'allowed' || decision.kind === 'fail_open';

/**
 * The RateLimit-* response headers of a bucket answer (the IETF httpapi RateLimit header fields, in their
 * three-header form, as docs/architecture.md names them), plus Retry-After when the request was refused. Without a
 * bucket answer (Redis down) there are no values to tell, so none are invented.
 */
export function rateLimitHeaders(state: BucketState): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(state.limit),
    'RateLimit-Remaining': String(state.remaining),
    'RateLimit-Reset': String(state.resetSeconds),
  };
  // A refused request always waits at least a second: Retry-After is whole seconds and 0 would invite a hot loop.
  if (!state.allowed) headers['Retry-After'] = String(Math.max(1, state.retryAfterSeconds));
  return headers;
}
