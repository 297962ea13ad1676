import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '@faultline/database';
import type { OrdersConfig } from '../../orders.config';
import { ORDERS_CONFIG } from '../../orders.tokens';
import { Order, orderNotFound, OrderStatus } from '../../domain/order';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class GetOrderQuery {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
  ) {}

  /** Another customer's order is NOT_FOUND, never "forbidden": that would confirm the id exists. */
  async get(orderId: string, customerId: string, isAdmin: boolean): Promise<Order> {
    if (!UUID.test(orderId)) throw orderNotFound(orderId);
    const rows: {
      id: string;
      customer_id: string;
      status: OrderStatus;
      created_at: Date;
      sku: string;
      quantity: number;
    }[] = await this.dataSource.query(
      `SELECT o.id, o.customer_id, o.status, o.created_at, i.sku, i.quantity
         FROM orders o JOIN order_items i ON i.order_id = o.id
        WHERE o.id = $1 AND ($2 OR o.customer_id = $3)
        ORDER BY i.line`,
      // ORDERS_READ=any-caller: the ownership test dropped, as if the token proving WHO calls also said WHAT they may
      // read.
      [orderId, isAdmin || this.config.ORDERS_READ === 'any-caller', customerId],
    );
    if (rows.length === 0) throw orderNotFound(orderId);
    const [first] = rows;
    return {
      id: first.id,
      customerId: first.customer_id,
      status: first.status,
      items: rows.map((r) => ({ sku: r.sku, quantity: r.quantity })),
      createdAt: first.created_at.toISOString(),
    };
  }
}
