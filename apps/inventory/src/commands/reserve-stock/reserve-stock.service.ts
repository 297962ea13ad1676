import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { createEvent, EventEnvelope, INVENTORY_REJECTION_REASONS, OrderPlacedV1 } from '@faultline/contracts';
import { DATA_SOURCE, inTransaction, queryRows, type SqlExecutor } from '@faultline/database';
import { recordInInbox } from '@faultline/messaging';
import { appendToOutbox } from '@faultline/outbox';
import type { InventoryConfig } from '../../inventory.config';
import { INVENTORY_CONFIG } from '../../inventory.tokens';
import { ReserveStockMetrics } from './reserve-stock.metrics';

export const RESERVATIONS_CONSUMER = 'inventory-reservations';

export type ReservationOutcome = 'reserved' | 'rejected' | 'duplicate' | 'already-answered';
type RejectionReason = (typeof INVENTORY_REJECTION_REASONS)[number];

/**
 * Reserves ALL items of an order or none, in one transaction with the inbox row and the answer's outbox row.
 * Each decrement is one conditional statement (`available >= n` in the WHERE), so two concurrent reservations of the
 * last unit cannot both succeed: the second one's UPDATE re-checks the row after the first commits and matches
 * nothing. The CHECK (available >= 0) behind it makes a negative stock impossible even for a buggy statement.
 * `INVENTORY_RESERVE=naive` replaces the decrement by a read, a decision and a write of the computed value: two
 * concurrent reservations both read the last unit and both write 0, so stock never goes negative and is oversold all
 * the same (a lost update, which only a conservation check sees).
 */
@Injectable()
export class ReserveStockService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly metrics: ReserveStockMetrics,
    @Inject(INVENTORY_CONFIG) private readonly config: InventoryConfig,
  ) {}

  async reserve(eventId: string, order: OrderPlacedV1, traceparent?: string): Promise<ReservationOutcome> {
    let rejection: RejectionReason | undefined;
    const outcome = await inTransaction(this.dataSource, async (sql) => {
      if (!(await recordInInbox(sql, RESERVATIONS_CONSUMER, eventId))) return 'duplicate';
      const [answered] = await queryRows(sql, 'SELECT 1 FROM reservations WHERE order_id = $1', [order.orderId]);
      if (answered) return 'already-answered';

      // One line per SKU, in SKU order: every transaction locks rows in the same order, so two orders sharing SKUs
      // wait for each other instead of deadlocking.
      const lines = [...mergeLines(order.items)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      await sql.query('SAVEPOINT reserve_all');
      let failure: { reason: RejectionReason; skus: string[] } | undefined;
      for (const [sku, quantity] of lines) {
        if (!(await this.decrement(sql, sku, quantity))) {
          failure = await this.whyNot(sql, sku);
          break;
        }
      }

      let answer: EventEnvelope;
      if (failure) {
        await sql.query('ROLLBACK TO SAVEPOINT reserve_all');
        await sql.query("INSERT INTO reservations (order_id, status, reason) VALUES ($1, 'REJECTED', $2)", [
          order.orderId,
          failure.reason,
        ]);
        answer = createEvent(
          'InventoryRejected',
          { orderId: order.orderId, reason: failure.reason, skus: failure.skus, rejectedAt: new Date().toISOString() },
          { traceparent },
        );
      } else {
        await sql.query("INSERT INTO reservations (order_id, status) VALUES ($1, 'RESERVED')", [order.orderId]);
        await sql.query(
          'INSERT INTO reservation_items (order_id, sku, quantity) SELECT $1, sku, quantity FROM unnest($2::text[], $3::int[]) AS t(sku, quantity)',
          [order.orderId, lines.map(([sku]) => sku), lines.map(([, quantity]) => quantity)],
        );
        answer = createEvent(
          'InventoryReserved',
          {
            orderId: order.orderId,
            items: lines.map(([sku, quantity]) => ({ sku, quantity })),
            reservedAt: new Date().toISOString(),
          },
          { traceparent },
        );
      }
      await appendToOutbox(sql, [answer]);
      rejection = failure?.reason;
      return failure ? 'rejected' : 'reserved';
    });
    if (outcome === 'reserved' || outcome === 'rejected') this.metrics.reservations.inc({ outcome });
    if (outcome === 'rejected' && rejection) this.metrics.oversellRejected.inc({ reason: rejection.toLowerCase() });
    return outcome;
  }

  /** Takes `quantity` units of `sku` if it has them; false if it has not (or does not exist). */
  private async decrement(sql: SqlExecutor, sku: string, quantity: number): Promise<boolean> {
    if (this.config.INVENTORY_RESERVE === 'conditional') {
      const updated = await queryRows(
        sql,
        'UPDATE products SET available = available - $2, updated_at = now() WHERE sku = $1 AND available >= $2 RETURNING sku',
        [sku, quantity],
      );
      return updated.length > 0;
    }
    // The naive variant, on purpose: nothing locks the row between the read and the write.
    const [row] = await queryRows<{ available: number }>(sql, 'SELECT available FROM products WHERE sku = $1', [sku]);
    if (!row || Number(row.available) < quantity) return false;
    await sleep(this.config.INVENTORY_NAIVE_DECIDE_MS);
    await sql.query('UPDATE products SET available = $2, updated_at = now() WHERE sku = $1', [
      sku,
      Number(row.available) - quantity,
    ]);
    return true;
  }

  /** Why the decrement of `sku` matched no row: the SKU does not exist, or it has fewer units than asked. */
  private async whyNot(sql: SqlExecutor, sku: string): Promise<{ reason: RejectionReason; skus: string[] }> {
    const [exists] = await queryRows(sql, 'SELECT 1 FROM products WHERE sku = $1', [sku]);
    return { reason: exists ? 'INSUFFICIENT_STOCK' : 'UNKNOWN_SKU', skus: [sku] };
  }
}

/** The same SKU twice in one order is one reservation of the summed quantity. */
function mergeLines(items: { sku: string; quantity: number }[]): Map<string, number> {
  const lines = new Map<string, number>();
  for (const { sku, quantity } of items) lines.set(sku, (lines.get(sku) ?? 0) + quantity);
  return lines;
}
