import { Counter, Gauge, type Registry } from 'prom-client';
import type { BreakerState } from './resilience-events';

/** `circuit_breaker_state` values. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** How one call through a breaker ended. */
export type CallOutcome = 'success' | 'failure' | 'timeout' | 'rejected' | 'caller_error';

export type RetryOutcome = 'attempted' | 'budget_exhausted' | 'deadline';

/**
 * The resilience metrics of one process, registered once per registry and shared by every DependencyPolicy. Labels
 * are bounded: `dependency` is one of the process's configured dependencies, the others are fixed sets.
 */
export class ResilienceMetrics {
  readonly state: Gauge<'dependency'>;
  readonly transitions: Counter<'dependency' | 'to'>;
  readonly calls: Counter<'dependency' | 'outcome'>;
  readonly fallbacks: Counter<'dependency' | 'kind'>;
  readonly retries: Counter<'dependency' | 'outcome'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.state = new Gauge({
      name: 'circuit_breaker_state',
      help: 'Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open',
      labelNames: ['dependency'],
      registers,
    });
    this.transitions = new Counter({
      name: 'circuit_breaker_transitions_total',
      help: 'Circuit breaker state changes per dependency, by the state entered (open, half_open, closed)',
      labelNames: ['dependency', 'to'],
      registers,
    });
    this.calls = new Counter({
      name: 'circuit_breaker_calls_total',
      help: 'Calls through a circuit breaker by outcome: success, failure, timeout, rejected (short-circuited while open), caller_error (not counted as a failure)',
      labelNames: ['dependency', 'outcome'],
      registers,
    });
    this.fallbacks = new Counter({
      name: 'fallbacks_total',
      help: 'Answers served by a fallback instead of the dependency, by dependency and kind of fallback',
      labelNames: ['dependency', 'kind'],
      registers,
    });
    this.retries = new Counter({
      name: 'dependency_retries_total',
      help: 'Retry decisions for idempotent calls: attempted, budget_exhausted (the retry budget refused), deadline (no time left)',
      labelNames: ['dependency', 'outcome'],
      registers,
    });
  }
}
