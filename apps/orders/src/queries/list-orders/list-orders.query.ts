import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DomainError } from '@faultline/bootstrap';
import { DATA_SOURCE } from '@faultline/database';
import type { OrderStatus } from '../../domain/order';
import type { OrdersConfig } from '../../orders.config';
import { ORDERS_CONFIG } from '../../orders.tokens';
import { ORDER_COLUMNS, type OrderColumns } from '../../database/order-columns.port';
import { decodeCursor, encodeCursor } from './order-cursor';

export interface OrderSummary {
  id: string;
  customerId: string;
  customerName: string;
  status: OrderStatus;
  itemCount: number;
  createdAt: string;
}

export interface OrderPage {
  items: OrderSummary[];
  nextCursor: string;
  /** Database queries this page took: the N+1 lab's evidence. */
  queryCount: number;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;

interface OrderRow {
  id: string;
  customer_id: string;
  status: OrderStatus;
  line_count: number;
  created_at: Date;
}

@Injectable()
export class ListOrdersQuery {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
    @Inject(ORDER_COLUMNS) private readonly columns: OrderColumns,
  ) {}

  /**
   * A page of orders, newest first, with each order's customer name. How the names are fetched is the N+1 lab:
   * `batched` asks once for all customers of the page (2 queries per page), `naive` asks once per order (1 + N).
   */
  async list(customerId: string, isAdmin: boolean, limit: number, rawCursor: string): Promise<OrderPage> {
    if (limit < 0 || limit > MAX_LIMIT) throw new DomainError('INVALID_ARGUMENT', `limit must be 1..${MAX_LIMIT}`);
    const pageSize = limit || DEFAULT_LIMIT;
    const cursor = decodeCursor(rawCursor);
    let queries = 0;
    const query = <T>(sql: string, params: unknown[]): Promise<T[]> => {
      queries += 1;
      return this.dataSource.query(sql, params);
    };

    const rows = await query<OrderRow>(
      // The line count's column depends on the online migration's release (item_count until reads are flipped).
      `SELECT id, customer_id, status, ${this.columns.lineCountColumn()} AS line_count, created_at FROM orders
        WHERE ($1 OR customer_id = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $5`,
      [isAdmin, customerId, cursor?.createdAt ?? null, cursor?.id ?? null, pageSize + 1],
    );
    const page = rows.slice(0, pageSize);

    const names = new Map<string, string>();
    if (this.config.ORDERS_LIST === 'naive') {
      for (const row of page) {
        const [customer] = await query<{ name: string }>('SELECT name FROM customers WHERE id = $1', [row.customer_id]);
        names.set(row.customer_id, customer?.name ?? row.customer_id);
      }
    } else if (page.length > 0) {
      const ids = [...new Set(page.map((r) => r.customer_id))];
      for (const c of await query<{ id: string; name: string }>(
        'SELECT id, name FROM customers WHERE id = ANY($1::text[])',
        [ids],
      ))
        names.set(c.id, c.name);
    }

    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        id: r.id,
        customerId: r.customer_id,
        customerName: names.get(r.customer_id) ?? r.customer_id,
        status: r.status,
        itemCount: r.line_count,
        createdAt: r.created_at.toISOString(),
      })),
      nextCursor:
        rows.length > pageSize && last ? encodeCursor({ createdAt: last.created_at.toISOString(), id: last.id }) : '',
      queryCount: queries,
    };
  }
}
