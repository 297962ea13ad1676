import { Inject, Injectable } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@faultline/observability';

/** How an order request ended with respect to its Idempotency-Key. */
export type IdempotencyOutcome = 'new' | 'replayed' | 'conflict' | 'in_flight';

/**
 * `idempotency_requests_total{outcome}`: new (an order was created), replayed (the stored answer was returned),
 * conflict (the key was reused with another body: 422), in_flight (the same key is being processed: 409). Counted
 * after the transaction ended, so a rolled-back attempt is not counted as new.
 */
@Injectable()
export class PlaceOrderMetrics {
  readonly requests: Counter<'outcome'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.requests = new Counter({
      name: 'idempotency_requests_total',
      help: 'Order requests by idempotency outcome: new, replayed, conflict, in_flight',
      labelNames: ['outcome'],
      registers: [registry],
    });
    for (const outcome of ['new', 'replayed', 'conflict', 'in_flight'] as const) this.requests.inc({ outcome }, 0);
  }
}
