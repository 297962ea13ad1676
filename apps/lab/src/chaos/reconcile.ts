// `lab reconcile`: the pipeline's books, across the service databases — orders by state, the orders outbox, inbox
// rows per consumer, reservations, notifications and their deliveries — with the ids that disagree. Drift = an order
// stuck PENDING past the grace period, a final order without its event in the outbox (while the outbox still holds
// rows that old), a final order without exactly one matching notification or sent more than once, a notification
// for no order, a CONFIRMED order without a reservation or a REJECTED one holding stock. What the orders database
// proves on its own comes from
// @faultline/reconciliation, the same queries the orders service's reconciliation job runs periodically.
import { Client } from 'pg';
import {
  ARCHIVED_CUSTOMER_PATTERN,
  findOrderDrift,
  ORDER_DRIFT_KINDS,
  repairOrders,
  type RepairedEvent,
} from '@faultline/reconciliation';
import { queryRows, type SqlExecutor } from '@faultline/database/sql';
import { postgresUrl } from '../infra/infra';
import type { LabLayout } from '../layout/lab-layout';

/** The customer id every chaos poison message carries (drivers.ts), and what a replay corrects it to. */
export const POISON_CUSTOMER = 'chaos-poison';
export const POISON_CUSTOMER_PATTERN = `${POISON_CUSTOMER}%`;

export interface DriftFinding {
  kind: string;
  ids: string[];
}

export interface ReconcileReport {
  ordersByState: Record<string, number>;
  /** Orders of archived customers (lab migrate seed): history without events, left out of every check. */
  archivedOrders: number;
  /** Notifications of the chaos runs' poison messages (customer chaos-poison…): left out of every check. */
  poisonNotifications: number;
  outboxRows: Record<string, number>;
  inboxRowsPerConsumer: Record<string, number>;
  notifications: number;
  deliveries: number;
  drift: DriftFinding[];
}

/** The three service databases, through whatever runs SQL on the target (pg locally, psql in the pod on kind). */
export interface ServiceDatabases {
  orders: SqlExecutor;
  inventory: SqlExecutor;
  notifications: SqlExecutor;
}

/** The local lab's three service databases, one connection each, for the length of `use`. */
export async function withServiceDatabases<T>(
  layout: LabLayout,
  use: (dbs: ServiceDatabases) => Promise<T>,
): Promise<T> {
  const open = async (db: string) => {
    const c = new Client({ connectionString: postgresUrl(layout, db) });
    await c.connect();
    return c;
  };
  const [orders, inventory, notifications] = await Promise.all([
    open('orders'),
    open('inventory'),
    open('notifications'),
  ]);
  try {
    return await use({ orders, inventory, notifications });
  } finally {
    await Promise.all([orders.end(), inventory.end(), notifications.end()]);
  }
}

export const reconcile = (
  layout: LabLayout,
  options: { graceS: number; outboxRetentionHours?: number },
): Promise<ReconcileReport> => withServiceDatabases(layout, (dbs) => reconcileWith(dbs, options));

/** The books of `reconcile`, on any target's databases. */
export async function reconcileWith(
  dbs: ServiceDatabases,
  options: { graceS: number; outboxRetentionHours?: number },
): Promise<ReconcileReport> {
  const { orders, inventory, notifications } = dbs;
  const q = (c: SqlExecutor, text: string, params: unknown[] = []) => queryRows(c, text, params);
  // Archived orders (lab migrate seed) predate the pipeline: counted apart, never drift.
  const byState = await q(
    orders,
    'SELECT status, count(*)::int AS n FROM orders WHERE customer_id NOT LIKE $1 GROUP BY status ORDER BY status',
    [ARCHIVED_CUSTOMER_PATTERN],
  );
  const [archived] = await q(orders, 'SELECT count(*)::int AS n FROM orders WHERE customer_id LIKE $1', [
    ARCHIVED_CUSTOMER_PATTERN,
  ]);
  const outbox = await q(orders, 'SELECT type, count(*)::int AS n FROM outbox GROUP BY type ORDER BY type');
  const inbox = [
    ...(await q(orders, "SELECT 'orders:' || consumer AS c, count(*)::int AS n FROM inbox GROUP BY consumer")),
    ...(await q(inventory, "SELECT 'inventory:' || consumer AS c, count(*)::int AS n FROM inbox GROUP BY consumer")),
    ...(await q(
      notifications,
      "SELECT 'notifications:' || consumer AS c, count(*)::int AS n FROM inbox GROUP BY consumer",
    )),
  ];
  const all = await q(orders, 'SELECT id::text AS id, status FROM orders WHERE customer_id NOT LIKE $1', [
    ARCHIVED_CUSTOMER_PATTERN,
  ]);
  // The chaos runs' own poison messages (a replayed dead letter is notified for an order that never existed): the
  // lab's test traffic, counted apart like archived orders, never drift.
  const [poisonNotes] = await q(
    notifications,
    'SELECT count(*)::int AS n FROM notifications WHERE customer_id LIKE $1',
    [POISON_CUSTOMER_PATTERN],
  );
  const notes = await q(
    notifications,
    'SELECT order_id::text AS id, kind, count(*) OVER (PARTITION BY order_id)::int AS n FROM notifications WHERE customer_id NOT LIKE $1',
    [POISON_CUSTOMER_PATTERN],
  );
  const noteOf = new Map(notes.map((r) => [String(r['id']), r]));
  const sent = await q(
    notifications,
    'SELECT order_id::text AS id, count(*)::int AS n FROM deliveries GROUP BY order_id',
  );
  const reservations = await q(inventory, 'SELECT order_id::text AS id, status FROM reservations');
  const reservationOf = new Map(reservations.map((r) => [String(r['id']), String(r['status'])]));
  const ids = new Set(all.map((o) => String(o['id'])));

  const drift: DriftFinding[] = [];
  const add = (kind: string, list: string[]) => list.length && drift.push({ kind, ids: list.sort() });
  const final = all.filter((o) => o['status'] !== 'PENDING');
  for (const finding of await findOrderDrift(orders, {
    pendingGraceS: options.graceS,
    outboxRetentionHours: options.outboxRetentionHours ?? 24,
  }))
    add(finding.title, finding.ids);
  add(
    'final order without a notification',
    final.filter((o) => !noteOf.has(String(o['id']))).map((o) => String(o['id'])),
  );
  add(
    'notification kind differs from the order status',
    final
      .filter((o) => noteOf.has(String(o['id'])) && noteOf.get(String(o['id']))?.['kind'] !== `ORDER_${o['status']}`)
      .map((o) => String(o['id'])),
  );
  add(
    'more than one notification for an order',
    notes.filter((r) => Number(r['n']) > 1).map((r) => String(r['id'])),
  );
  add(
    'order notified more than once (deliveries)',
    sent.filter((r) => Number(r['n']) > 1).map((r) => String(r['id'])),
  );
  add(
    'notification for an order that does not exist',
    notes.filter((r) => !ids.has(String(r['id']))).map((r) => String(r['id'])),
  );
  add(
    'CONFIRMED order without a reservation',
    final
      .filter((o) => o['status'] === 'CONFIRMED' && reservationOf.get(String(o['id'])) !== 'RESERVED')
      .map((o) => String(o['id'])),
  );
  add(
    'REJECTED order holding reserved stock',
    final
      .filter((o) => o['status'] === 'REJECTED' && reservationOf.get(String(o['id'])) === 'RESERVED')
      .map((o) => String(o['id'])),
  );
  const [neg] = await q(inventory, 'SELECT array_agg(sku ORDER BY sku) AS skus FROM products WHERE available < 0');
  add('stock below zero', ((neg?.['skus'] as string[] | null) ?? []).map(String));
  return {
    ordersByState: Object.fromEntries(byState.map((r) => [String(r['status']), Number(r['n'])])),
    archivedOrders: Number(archived?.['n'] ?? 0),
    poisonNotifications: Number(poisonNotes?.['n'] ?? 0),
    outboxRows: Object.fromEntries(outbox.map((r) => [String(r['type']), Number(r['n'])])),
    inboxRowsPerConsumer: Object.fromEntries(inbox.map((r) => [String(r['c']), Number(r['n'])])),
    notifications: notes.length,
    deliveries: sent.reduce((n, r) => n + Number(r['n']), 0),
    drift,
  };
}

export function formatReconcile(r: ReconcileReport): string {
  const kv = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  return [
    `orders by state:        ${kv(r.ordersByState)}${r.archivedOrders ? ` (and ${r.archivedOrders} archived orders, left out)` : ''}`,
    `orders outbox rows:     ${kv(r.outboxRows)}`,
    `inbox rows per consumer: ${kv(r.inboxRowsPerConsumer)}`,
    `notifications:          ${r.notifications} (${r.deliveries} deliveries)${r.poisonNotifications ? ` (and ${r.poisonNotifications} of chaos poison messages, left out)` : ''}`,
    '',
    ...(r.drift.length === 0
      ? ['No drift.']
      : ['DRIFT:', ...r.drift.flatMap((d) => [`  ${d.kind} (${d.ids.length}):`, ...d.ids.map((id) => `    ${id}`)])]),
  ].join('\n');
}

/** The drift `--repair` mends: orders whose event was lost on its way (stuck PENDING, or final but never notified). */
export const REPAIRABLE_DRIFT = [ORDER_DRIFT_KINDS.stuck_pending, 'final order without a notification'];

/** The order ids of a report that a repair would republish an event for, each once, sorted. */
export function repairableIds(report: ReconcileReport): string[] {
  return [...new Set(report.drift.filter((d) => REPAIRABLE_DRIFT.includes(d.kind)).flatMap((d) => d.ids))].sort();
}

/**
 * `lab reconcile --repair`: puts the events those orders are missing back into the orders outbox (see repairOrders).
 */
export async function repair(layout: LabLayout, ids: readonly string[]): Promise<RepairedEvent[]> {
  const orders = new Client({ connectionString: postgresUrl(layout, 'orders') });
  await orders.connect();
  try {
    return await repairOrders(orders, ids);
  } finally {
    await orders.end();
  }
}

/** `repair` through any target's orders database (one session: each order's events are put back in a transaction). */
export const repairWith = (orders: SqlExecutor, ids: readonly string[]): Promise<RepairedEvent[]> =>
  repairOrders(orders, ids);

export function formatRepair(repaired: RepairedEvent[]): string {
  if (repaired.length === 0) return 'Nothing to repair.';
  return [
    `Republished ${repaired.length} event(s) through the orders outbox:`,
    ...repaired.map((r) => `  ${r.orderId} ${r.type} ${r.eventId} (${r.how})`),
  ].join('\n');
}
