import CircuitBreaker from 'opossum';
import type { ResilienceEvents } from './resilience-events';
import { BREAKER_STATE_VALUE, type ResilienceMetrics } from './resilience-metrics';

export interface BreakerPolicy {
  /** Percentage of failed calls in the rolling window above which the breaker opens. */
  errorThresholdPercent: number;
  /** Calls needed in the rolling window before the error rate may open the breaker (no opening on 1 of 1). */
  volumeThreshold: number;
  /** The rolling window the error rate is computed over. */
  rollingWindowMs: number;
  /** How long the breaker stays open before letting ONE trial call through (half-open). */
  resetTimeoutMs: number;
  /** A call still running after this long counts as a timeout failure (the caller gets ETIMEDOUT). */
  timeoutMs: number;
}

/** How an error thrown by the protected call counts for the breaker. */
export type ErrorClass = 'failure' | 'timeout' | 'caller_error';

/** The breaker refused the call without trying it: the dependency is considered down. */
export class CircuitOpenError extends Error {
  constructor(readonly dependency: string) {
    super(`circuit breaker for ${dependency} is open`);
    this.name = 'CircuitOpenError';
  }
}

/** The breaker's own timeout fired before the call settled (the call itself may still be running). */
export class BreakerTimeoutError extends Error {
  constructor(
    readonly dependency: string,
    readonly timeoutMs: number,
  ) {
    super(`call to ${dependency} timed out after ${timeoutMs} ms`);
    this.name = 'BreakerTimeoutError';
  }
}

type Thunk = () => Promise<unknown>;

/** Checks a breaker policy's numbers; throws a RangeError naming the first bad one. */
export function validateBreakerPolicy(policy: BreakerPolicy): BreakerPolicy {
  const checks: [keyof BreakerPolicy, boolean][] = [
    ['errorThresholdPercent', policy.errorThresholdPercent > 0 && policy.errorThresholdPercent <= 100],
    ['volumeThreshold', Number.isInteger(policy.volumeThreshold) && policy.volumeThreshold >= 1],
    ['rollingWindowMs', policy.rollingWindowMs >= 100],
    ['resetTimeoutMs', policy.resetTimeoutMs >= 1],
    ['timeoutMs', policy.timeoutMs >= 1],
  ];
  for (const [name, ok] of checks) if (!ok) throw new RangeError(`breaker policy: invalid ${name} (${policy[name]})`);
  return policy;
}

/** The options opossum gets for a policy: pure, so the mapping is unit-tested. */
export function opossumOptions(
  dependency: string,
  policy: BreakerPolicy,
  classify: (error: unknown) => ErrorClass,
): CircuitBreaker.Options {
  validateBreakerPolicy(policy);
  return {
    name: dependency,
    timeout: policy.timeoutMs,
    errorThresholdPercentage: policy.errorThresholdPercent,
    volumeThreshold: policy.volumeThreshold,
    rollingCountTimeout: policy.rollingWindowMs,
    // 10 buckets: the window slides in tenths.
    rollingCountBuckets: 10,
    resetTimeout: policy.resetTimeoutMs,
    // A caller's mistake (not found, invalid argument…) proves the dependency answers: never a failure.
    errorFilter: (error) => classify(error) === 'caller_error',
  };
}

/**
 * One opossum breaker for one dependency, whose state, transitions and every call's outcome are metrics and events.
 * Every method of the dependency goes through the same breaker: they share the process, the network path and the
 * database behind it.
 */
export class DependencyBreaker {
  private readonly breaker: CircuitBreaker<[Thunk], unknown>;

  constructor(
    readonly dependency: string,
    readonly policy: BreakerPolicy,
    private readonly classify: (error: unknown) => ErrorClass,
    private readonly metrics: ResilienceMetrics,
    private readonly events: ResilienceEvents,
  ) {
    this.breaker = new CircuitBreaker<[Thunk], unknown>(
      (thunk) => thunk(),
      opossumOptions(dependency, policy, classify),
    );
    metrics.state.set({ dependency }, BREAKER_STATE_VALUE.closed);
    const enter = (to: 'closed' | 'half_open' | 'open') => () => {
      metrics.state.set({ dependency }, BREAKER_STATE_VALUE[to]);
      metrics.transitions.inc({ dependency, to });
      events.emit({ type: 'breaker_state', dependency, to });
    };
    this.breaker.on('open', enter('open'));
    this.breaker.on('halfOpen', enter('half_open'));
    this.breaker.on('close', enter('closed'));
  }

  state(): 'closed' | 'half_open' | 'open' {
    if (this.breaker.halfOpen) return 'half_open';
    return this.breaker.opened ? 'open' : 'closed';
  }

  /** Runs `call` through the breaker: CircuitOpenError when open, BreakerTimeoutError after `timeoutMs`. */
  async fire<T>(call: () => Promise<T>): Promise<T> {
    const dependency = this.dependency;
    try {
      const result = (await this.breaker.fire(call)) as T;
      this.metrics.calls.inc({ dependency, outcome: 'success' });
      return result;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'EOPENBREAKER') {
        this.metrics.calls.inc({ dependency, outcome: 'rejected' });
        this.events.emit({ type: 'short_circuit', dependency });
        throw new CircuitOpenError(dependency);
      }
      if (code === 'ETIMEDOUT' && (error as Error).message.startsWith('Timed out after')) {
        this.metrics.calls.inc({ dependency, outcome: 'timeout' });
        throw new BreakerTimeoutError(dependency, this.policy.timeoutMs);
      }
      this.metrics.calls.inc({ dependency, outcome: this.classify(error) });
      throw error;
    }
  }

  shutdown(): void {
    this.breaker.shutdown();
  }
}
