// The only public surface of @faultline/resilience: per-dependency call policies (deadline, circuit breaker, bounded
// jittered retries under a budget) and load shedding, with their Prometheus metrics and an event hook.
export { fullJitterDelay, type BackoffPolicy } from './backoff';
export {
  BreakerTimeoutError,
  CircuitOpenError,
  DependencyBreaker,
  opossumOptions,
  validateBreakerPolicy,
  type BreakerPolicy,
  type ErrorClass,
} from './circuit-breaker';
export {
  DependencyPolicy,
  type CallOptions,
  type DependencyPolicyOptions,
  type RetryPolicy,
} from './dependency-policy';
export { InFlightLimiter, LoadShedder } from './in-flight-limiter';
export {
  ResilienceEvents,
  type BreakerState,
  type ResilienceEvent,
  type ResilienceListener,
} from './resilience-events';
export { BREAKER_STATE_VALUE, ResilienceMetrics, type CallOutcome, type RetryOutcome } from './resilience-metrics';
export { RetryBudget, type RetryBudgetOptions } from './retry-budget';
export { isTransientError } from './transient-error';
export { EventLoopLag } from './event-loop-lag';
export { RateAdmission } from './rate-admission';
