import { Inject, Injectable } from '@nestjs/common';
import { queryRows, type SqlExecutor } from '@faultline/database';
import type { Order, OrderItem, OrderStatus } from '../domain/order';
import { ORDER_COLUMNS, type OrderColumns } from './order-columns.port';

/** The orders, their items and their customers, inside the caller's transaction (`tx`). */
@Injectable()
export class OrderRepository {
  constructor(@Inject(ORDER_COLUMNS) private readonly columns: OrderColumns) {}

  /** A customer is created on its first order; an existing one keeps its name. */
  async ensureCustomer(tx: SqlExecutor, id: string, name: string): Promise<void> {
    await tx.query('INSERT INTO customers (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, name]);
  }

  /** A new order and its lines, numbered in the order given. */
  async insert(tx: SqlExecutor, order: Order, at: Date): Promise<void> {
    await tx.query(this.columns.insertOrderSql(), [order.id, order.customerId, order.status, order.items.length, at]);
    await tx.query(
      `INSERT INTO order_items (order_id, line, sku, quantity)
       SELECT $1, line, sku, quantity FROM unnest($2::text[], $3::int[]) WITH ORDINALITY AS t(sku, quantity, line)`,
      [order.id, order.items.map((i) => i.sku), order.items.map((i) => i.quantity)],
    );
  }

  /** Moves a PENDING order to its final state; undefined when no PENDING order with that id is visible. */
  async finalize(
    tx: SqlExecutor,
    orderId: string,
    status: Exclude<OrderStatus, 'PENDING'>,
    reason: string | null,
  ): Promise<{ customerId: string } | undefined> {
    const [row] = await queryRows<{ customer_id: string }>(
      tx,
      `UPDATE orders SET status = $2, reject_reason = $3, updated_at = now()
        WHERE id = $1 AND status = 'PENDING' RETURNING customer_id`,
      [orderId, status, reason],
    );
    return row && { customerId: row.customer_id };
  }

  async statusOf(tx: SqlExecutor, orderId: string): Promise<OrderStatus | undefined> {
    const [row] = await queryRows<{ status: OrderStatus }>(tx, 'SELECT status FROM orders WHERE id = $1', [orderId]);
    return row?.status;
  }

  async itemsOf(tx: SqlExecutor, orderId: string): Promise<OrderItem[]> {
    return queryRows<OrderItem>(tx, 'SELECT sku, quantity FROM order_items WHERE order_id = $1 ORDER BY line', [
      orderId,
    ]);
  }
}
