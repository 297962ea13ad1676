import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '@faultline/database';

/**
 * Best sellers aggregated over every order line, on every call. It exists for ONE purpose: the lab's naive
 * recommendations fallback (RECS_FALLBACK=naive), which shows how a fallback that does fresh work on a shared
 * database amplifies an outage. A full scan and sort per call is the point; nothing else should call it.
 */
@Injectable()
export class TopSellersQuery {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async top(limit: number): Promise<{ sku: string; quantity: number }[]> {
    const rows: { sku: string; quantity: string }[] = await this.dataSource.query(
      `SELECT i.sku, sum(i.quantity) AS quantity FROM order_items i JOIN orders o ON o.id = i.order_id
        WHERE o.status <> 'REJECTED' GROUP BY i.sku ORDER BY sum(i.quantity) DESC, i.sku LIMIT $1`,
      [Math.min(Math.max(limit || 5, 1), 100)],
    );
    return rows.map((r) => ({ sku: r.sku, quantity: Number(r.quantity) }));
  }
}
