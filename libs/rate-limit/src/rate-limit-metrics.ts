import { Counter, Histogram, type Registry } from 'prom-client';
import type { RateLimitDecisionKind } from './rate-limit-decision';

/** Buckets in seconds: a healthy limiter call is sub-millisecond; the top buckets catch the command timeout. */
const LIMITER_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/**
 * `rate_limit_decisions_total{route,decision}`: route is a route template (`GET /v1/orders/:id`), never a raw path,
 * so label values stay bounded. `rate_limit_check_duration_seconds{outcome}`: how long the limiter call took (the
 * latency the limiter adds to a request); outcome is `ok` or `error`.
 */
export class RateLimitMetrics {
  readonly decisions: Counter<'route' | 'decision'>;
  readonly duration: Histogram<'outcome'>;

  constructor(registry: Registry) {
    this.decisions = new Counter({
      name: 'rate_limit_decisions_total',
      help: 'Rate-limit decisions by route template and decision (allowed, limited, fail_open, fail_closed)',
      labelNames: ['route', 'decision'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'rate_limit_check_duration_seconds',
      help: 'Latency of one rate-limiter call (one Redis round trip, or the time until it failed)',
      labelNames: ['outcome'],
      buckets: LIMITER_LATENCY_BUCKETS,
      registers: [registry],
    });
  }

  record(route: string, decision: RateLimitDecisionKind, seconds: number) {
    this.decisions.inc({ route, decision });
    this.duration.observe(
      { outcome: decision === 'fail_open' || decision === 'fail_closed' ? 'error' : 'ok' },
      seconds,
    );
  }
}
