// Archived orders for the migration lab: a table "large enough to matter" (`lab migrate seed 1000000`). They are
// history imported from before the event pipeline existed, so they have no events, reservations or notifications;
// they belong to customers `archive-NNNN` (libs/reconciliation), which reconciliation leaves out for that reason.
import { ARCHIVED_CUSTOMER_PREFIX as ARCHIVE_CUSTOMER_PREFIX } from '@faultline/reconciliation';
import type { Queryable } from './backfill';

export interface SeedProgress {
  inserted: number;
  total: number;
  rowsPerS: number;
}

export async function seedArchivedOrders(
  db: Queryable,
  count: number,
  batch: number,
  onProgress: (p: SeedProgress) => void,
  signal?: AbortSignal,
) {
  const began = Date.now();
  await db.query(
    `INSERT INTO customers (id, name) SELECT '${ARCHIVE_CUSTOMER_PREFIX}' || lpad(i::text, 4, '0'), 'Archived customer ' || i FROM generate_series(1, 100) AS i ON CONFLICT (id) DO NOTHING`,
  );
  // Whichever line-count columns exist at this step get the value (both during the rollout).
  const columns = (
    await db.query<{ name: string }>(
      "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'orders' AND column_name IN ('item_count', 'line_count') ORDER BY column_name",
    )
  ).rows.map((r) => r.name);
  if (columns.length === 0) throw new Error('orders has neither item_count nor line_count');
  const [{ n: before } = { n: 0 }] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')).rows;
  let inserted = 0;
  while (inserted < count) {
    if (signal?.aborted) break;
    const size = Math.min(batch, count - inserted);
    // One statement per batch: the orders and their lines (1–3 per order), created over the past two years.
    await db.query(
      `WITH o AS (
         INSERT INTO orders (id, customer_id, status, ${columns.join(', ')}, created_at, updated_at)
         SELECT gen_random_uuid(), '${ARCHIVE_CUSTOMER_PREFIX}' || lpad((1 + i % 100)::text, 4, '0'), CASE WHEN i % 10 = 0 THEN 'REJECTED' ELSE 'CONFIRMED' END,
                ${columns.map(() => '1 + i % 3').join(', ')}, t, t
         FROM generate_series($1::bigint, $2::bigint) AS i, LATERAL (SELECT now() - interval '730 days' + (i % 1000000) * interval '63 seconds' AS t) ts
         RETURNING id, ${columns[0]} AS lines
       )
       INSERT INTO order_items (order_id, line, sku, quantity) SELECT o.id, l, 'ARCHIVE-' || l, 1 FROM o, generate_series(1, o.lines) AS l`,
      [before + inserted + 1, before + inserted + size],
    );
    inserted += size;
    onProgress({
      inserted,
      total: count,
      rowsPerS: Math.round(inserted / Math.max(0.001, (Date.now() - began) / 1000)),
    });
  }
  await db.query('ANALYZE orders');
  return { inserted, seconds: (Date.now() - began) / 1000 };
}
