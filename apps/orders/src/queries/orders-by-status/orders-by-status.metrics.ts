import { Inject, Injectable } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '@faultline/database';
import { METRICS_REGISTRY } from '@faultline/observability';
import type { OrderStatus } from '../../domain/order';

/** Every status, so a status with no order reads 0 rather than vanishing from the dashboard. */
const ORDER_STATUSES: readonly OrderStatus[] = ['PENDING', 'CONFIRMED', 'REJECTED'];

/**
 * `orders_by_status{status}`: how many orders are in each status, counted in the orders database at scrape time
 * (one GROUP BY per scrape: a scan the lab's order counts afford; a real system would keep counters). PENDING that
 * keeps growing while nothing is placed means the saga is stuck somewhere (relay, Kafka, inventory). A failed count
 * leaves the last values in place.
 */
@Injectable()
export class OrdersByStatusMetrics {
  constructor(@Inject(DATA_SOURCE) dataSource: DataSource, @Inject(METRICS_REGISTRY) registry: Registry) {
    new Gauge({
      name: 'orders_by_status',
      help: 'Orders in the orders database by status (PENDING, CONFIRMED, REJECTED), counted at scrape time',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        try {
          const rows = (await dataSource.query(
            'SELECT status, count(*)::int AS count FROM orders GROUP BY status',
          )) as { status: string; count: number }[];
          for (const status of ORDER_STATUSES) this.set({ status }, rows.find((r) => r.status === status)?.count ?? 0);
        } catch {
          // Postgres down: the scrape still answers; the pool and readiness metrics say why.
        }
      },
    });
  }
}
