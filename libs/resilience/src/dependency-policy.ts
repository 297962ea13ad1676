import { setTimeout as sleep } from 'node:timers/promises';
import { type BackoffPolicy, fullJitterDelay } from './backoff';
import { type BreakerPolicy, CircuitOpenError, DependencyBreaker, type ErrorClass } from './circuit-breaker';
import type { ResilienceEvents } from './resilience-events';
import type { ResilienceMetrics } from './resilience-metrics';
import { RetryBudget, type RetryBudgetOptions } from './retry-budget';

export interface RetryPolicy {
  /** Retries after the first attempt; at most 2 (more only adds load to a dependency that is already failing). */
  maxRetries: number;
  backoff: BackoffPolicy;
  budget: RetryBudgetOptions;
}

export interface DependencyPolicyOptions {
  dependency: string;
  /** The whole call's deadline, retries included; every attempt is sent with what is left of it. */
  deadlineMs: number;
  breaker: BreakerPolicy;
  /** Absent: never retry. */
  retry?: RetryPolicy;
  /** How an error counts for the breaker. */
  classify: (error: unknown) => ErrorClass;
  /**
   * Whether an error may be retried at all (e.g. gRPC UNAVAILABLE: the request surely did not run, or ran
   * idempotently).
   */
  isRetryable: (error: unknown) => boolean;
  metrics: ResilienceMetrics;
  events: ResilienceEvents;
  /** Injected for deterministic tests. */
  random?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
  now?: () => number;
}

export interface CallOptions {
  /** Only idempotent reads are retried; a write is attempted once, whatever happens. */
  idempotent: boolean;
}

/** Don't start an attempt with less than this left of the deadline: it could only time out. */
const MIN_ATTEMPT_MS = 10;

/**
 * Everything the gateway applies to one dependency, in one object: a deadline for the whole call (propagated to the
 * dependency as the attempt's gRPC deadline), a circuit breaker, and, for idempotent reads only, bounded retries with
 * full-jitter exponential backoff under a retry budget. Order: retry OUTSIDE the breaker, so every attempt is seen by
 * the breaker and an open breaker stops retries at once.
 */
export class DependencyPolicy {
  readonly breaker: DependencyBreaker;
  private readonly budget?: RetryBudget;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<unknown>;
  private readonly now: () => number;

  constructor(private readonly options: DependencyPolicyOptions) {
    if (
      options.retry &&
      !(Number.isInteger(options.retry.maxRetries) && options.retry.maxRetries >= 0 && options.retry.maxRetries <= 2)
    ) {
      throw new RangeError(`${options.dependency}: maxRetries must be 0, 1 or 2`);
    }
    this.breaker = new DependencyBreaker(
      options.dependency,
      options.breaker,
      options.classify,
      options.metrics,
      options.events,
    );
    this.budget = options.retry ? new RetryBudget(options.retry.budget) : undefined;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => sleep(ms));
    this.now = options.now ?? Date.now;
  }

  get dependency(): string {
    return this.options.dependency;
  }

  get deadlineMs(): number {
    return this.options.deadlineMs;
  }

  /**
   * Runs `attempt` (given the absolute deadline, epoch ms, to send with the request) under the policy. Throws the last
   * attempt's error, CircuitOpenError when the breaker refused, or BreakerTimeoutError.
   */
  async call<T>(attempt: (deadline: number) => Promise<T>, options: CallOptions): Promise<T> {
    const { dependency, metrics, events } = this.options;
    const deadline = this.now() + this.options.deadlineMs;
    const retry = options.idempotent ? this.options.retry : undefined;
    this.budget?.recordCall();
    for (let retries = 0; ; retries++) {
      try {
        return await this.breaker.fire(() => attempt(deadline));
      } catch (error) {
        if (
          !retry ||
          error instanceof CircuitOpenError ||
          retries >= retry.maxRetries ||
          !this.options.isRetryable(error)
        )
          throw error;
        const delayMs = fullJitterDelay(retries, retry.backoff, this.random);
        if (this.now() + delayMs + MIN_ATTEMPT_MS >= deadline) {
          metrics.retries.inc({ dependency, outcome: 'deadline' });
          throw error;
        }
        if (!this.budget?.tryRetry()) {
          metrics.retries.inc({ dependency, outcome: 'budget_exhausted' });
          events.emit({ type: 'retry_budget_exhausted', dependency });
          throw error;
        }
        metrics.retries.inc({ dependency, outcome: 'attempted' });
        events.emit({ type: 'retry', dependency, retry: retries + 1, delayMs });
        await this.sleep(delayMs);
      }
    }
  }

  /** Counts an answer served by a fallback (and tells the listeners); the caller computed the fallback itself. */
  recordFallback(kind: string): void {
    this.options.metrics.fallbacks.inc({ dependency: this.options.dependency, kind });
    this.options.events.emit({ type: 'fallback', dependency: this.options.dependency, kind });
  }

  shutdown(): void {
    this.breaker.shutdown();
  }
}
