import { Inject, Injectable } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@faultline/observability';

/**
 * Reservation outcomes, counted after the transaction committed:
 * - `inventory_reservations_total{outcome}`: reserved or rejected orders (duplicates and re-answers are not counted:
 *   `inbox_duplicates_total` has those);
 * - `inventory_oversell_rejected_total{reason}`: conditional decrements (`available >= n`) that matched no row, i.e.
 *   an oversell the database refused (insufficient_stock) or a SKU that does not exist (unknown_sku).
 */
@Injectable()
export class ReserveStockMetrics {
  readonly reservations: Counter<'outcome'>;
  readonly oversellRejected: Counter<'reason'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.reservations = new Counter({
      name: 'inventory_reservations_total',
      help: 'Orders inventory answered, by outcome: reserved, rejected',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.oversellRejected = new Counter({
      name: 'inventory_oversell_rejected_total',
      help: 'Conditional stock decrements that matched no row (the oversell the database refused), by reason: insufficient_stock, unknown_sku',
      labelNames: ['reason'],
      registers: [registry],
    });
    for (const outcome of ['reserved', 'rejected']) this.reservations.inc({ outcome }, 0);
    for (const reason of ['insufficient_stock', 'unknown_sku']) this.oversellRejected.inc({ reason }, 0);
  }
}
