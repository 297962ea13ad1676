import { queryRows, type SqlExecutor } from '@faultline/database/sql';

/** Drift the orders database proves on its own; `title` is how `lab reconcile` names it, `kind` the metric label. */
export const ORDER_DRIFT_KINDS = {
  stuck_pending: 'stuck PENDING longer than the grace period',
  final_without_outbox_event: 'final order without its OrderPlaced/outcome event in the outbox',
} as const;
export type OrderDriftKind = keyof typeof ORDER_DRIFT_KINDS;

export interface OrderDriftFinding {
  kind: OrderDriftKind;
  title: string;
  /** Every order id in drift, sorted (empty: none). */
  ids: string[];
}

/** The SQL behind each kind (exported for tests that look at its plan). */
export const ORDER_DRIFT_QUERIES: Record<OrderDriftKind, string> = {
  // The saga ends an order within seconds; PENDING past the grace means its event (or inventory's answer) was lost.
  stuck_pending: `SELECT id::text AS id FROM orders
     WHERE status = 'PENDING' AND created_at < now() - make_interval(secs => $1)
     ORDER BY 1`,
  // A final order's status change and its outcome event are one transaction, and so are the order and OrderPlaced:
  // either missing means the event never entered the outbox (a dual write). Only orders the outbox still covers:
  // retention prunes rows older than OUTBOX_RETENTION_HOURS, so an order older than that (and than the oldest row
  // still there) proves nothing. An empty outbox covers the retention window: it is not "nothing is covered".
  // Two anti-joins, one per missing event, never `NOT EXISTS … OR NOT EXISTS …`: Postgres cannot turn an OR of
  // subqueries into a join, and once the outbox outgrows work_mem it ran the subquery as a scan of the whole outbox
  // for every order (with 60,000 orders it burned a CPU for minutes, every RECONCILIATION_INTERVAL_MS).
  final_without_outbox_event: `WITH covered AS (
       SELECT o.id, o.status FROM orders o
        WHERE o.status <> 'PENDING'
          AND o.created_at >= LEAST(COALESCE((SELECT min(created_at) FROM outbox), now()), now() - make_interval(hours => $1))
     )
     SELECT c.id::text AS id FROM covered c
      WHERE NOT EXISTS (SELECT 1 FROM outbox x WHERE x.aggregateid = c.id::text AND x.type = 'OrderPlaced')
     UNION
     SELECT c.id::text AS id FROM covered c
      WHERE NOT EXISTS (SELECT 1 FROM outbox x WHERE x.aggregateid = c.id::text
                          AND x.type = CASE c.status WHEN 'CONFIRMED' THEN 'OrderConfirmed' ELSE 'OrderRejected' END)
     ORDER BY 1`,
};

/** Every kind of order drift, each with the exact ids (read-only; runs on any pg or TypeORM executor). */
export async function findOrderDrift(
  db: SqlExecutor,
  options: { pendingGraceS: number; outboxRetentionHours: number },
): Promise<OrderDriftFinding[]> {
  const findings: OrderDriftFinding[] = [];
  for (const kind of Object.keys(ORDER_DRIFT_QUERIES) as OrderDriftKind[]) {
    const params = kind === 'stuck_pending' ? [options.pendingGraceS] : [options.outboxRetentionHours];
    const rows = await queryRows<{ id: string }>(db, ORDER_DRIFT_QUERIES[kind], params);
    findings.push({ kind, title: ORDER_DRIFT_KINDS[kind], ids: rows.map((r) => String(r.id)) });
  }
  return findings;
}
