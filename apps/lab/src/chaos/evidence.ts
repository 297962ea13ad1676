// What a verdict is judged on: one run's evidence, read from sources the services under test do not control (their
// databases, the Kafka topics from the run's start offsets, the deliveries log, the trace store, the fault proxy's
// own counts, the load's own timings). Evaluators (checks.ts) are pure functions of it, so each can be shown to hold
// and to fail on a fixture; `sqlEvidence` reads the databases the same way on both targets.
import type { DlqEntry } from '@faultline/messaging';
import type { StoredSpan } from '../tracing/otlp-receiver';
import type { RequestRecord } from '@faultline/load';

export type ServiceDatabase = 'orders' | 'inventory' | 'notifications';
export type SqlQuery = (
  database: ServiceDatabase,
  text: string,
  params?: unknown[],
) => Promise<Record<string, unknown>[]>;

/** ms since the load started. */
export interface FaultWindow {
  injectedAt?: number;
  healedAt?: number;
}

export interface Line {
  sku: string;
  quantity: number;
}

export interface RunOrder {
  id: string;
  status: 'PENDING' | 'CONFIRMED' | 'REJECTED';
  customer: string;
  items: Line[];
}

/** An idempotency record: the order a customer's key created. */
export interface KeyRecord {
  customer: string;
  key: string;
  orderId: string;
}

export interface OutboxRow {
  source: 'orders' | 'inventory';
  eventId: string;
  orderId: string;
  type: string;
  traceparent: string | null;
  /** Epoch ms the row was written (its transaction's start: a few ms before its commit). */
  createdAt?: number;
}

export interface InboxRow {
  service: ServiceDatabase;
  consumer: string;
  eventId: string;
}

export interface ReservationRow {
  orderId: string;
  status: 'RESERVED' | 'REJECTED';
  items: Line[];
}

/** One notification SENT (the deliveries log has no unique key: a duplicate effect is a second row). */
export interface DeliveryRow {
  orderId: string;
  eventId: string;
  kind: string;
  /** Epoch ms. */
  deliveredAt?: number;
}

export interface NotificationRow {
  orderId: string;
  kind: string;
  /** Epoch ms the notification was written: when the feed began to show it. */
  createdAt?: number;
}

/** One message of orders.events or inventory.events written during the run. */
export interface BusMessage {
  topic: string;
  partition: number;
  offset: string;
  /** The order id (every event is keyed by it). */
  key: string | null;
  eventId: string | null;
  type: string | null;
  traceparent: string | null;
  timestamp: number;
}

/** Stock per SKU before the load and after convergence. */
export interface StockBook {
  start: Record<string, number>;
  end: Record<string, number>;
}

export interface DbSample {
  t: number;
  xactCommit: number;
  tupReturned: number;
  /** WAL Postgres keeps for the orders relay's slot (pg_current_wal_lsn() - restart_lsn); absent: no slot. */
  slotRetained?: number;
  /** How far behind the head the slot's reader has confirmed (pg_current_wal_lsn() - confirmed_flush_lsn). */
  slotUnconfirmed?: number;
  /** The slot's wal_status ('reserved', 'extended', 'unreserved', 'lost'). */
  slotStatus?: string;
}

/** One sample of the orders database each second (both targets): its counters and its relay slot's retained WAL. */
export const DB_SAMPLE_SQL = `SELECT xact_commit::bigint AS x, tup_returned::bigint AS r,
  (SELECT (pg_current_wal_lsn() - restart_lsn)::float8 FROM pg_replication_slots WHERE database = current_database() ORDER BY slot_name LIMIT 1) AS w,
  (SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::float8 FROM pg_replication_slots WHERE database = current_database() ORDER BY slot_name LIMIT 1) AS c,
  (SELECT wal_status FROM pg_replication_slots WHERE database = current_database() ORDER BY slot_name LIMIT 1) AS s
  FROM pg_stat_database WHERE datname = current_database()`;

export function dbSampleOf(row: Record<string, unknown>, t: number): DbSample {
  const w = row['w'];
  const c = row['c'];
  const status = row['s'];
  return {
    t,
    xactCommit: Number(row['x']),
    tupReturned: Number(row['r']),
    ...(w === null || w === undefined || w === '' ? {} : { slotRetained: Number(w) }),
    ...(c === null || c === undefined || c === '' ? {} : { slotUnconfirmed: Number(c) }),
    ...(typeof status === 'string' && status !== '' ? { slotStatus: status } : {}),
  };
}

/** An instant PromQL query against the target's Prometheus, as samples. */
export type PromQuery = (promql: string) => Promise<{ metric: Record<string, string>; value: number }[]>;

/** What the fault proxy saw of the services' own traffic on the faulted edge (never the runner's probe). */
export interface EdgeTraffic {
  edge: string;
  /**
   * Every 100 ms of the run: the proxy's cumulative counters for the services' connections (t: ms since load start).
   */
  samples: { t: number; bytesUpstream: number; bytesDownstream: number; heldChunks: number }[];
  /**
   * Postgres statements the services sent to the orders database at the load's start and end, and the background
   * rate to subtract: counted from the wire by the fault proxy locally, by Postgres' pg_stat_statements on kind.
   */
  statements?: { atLoadStart: number; atLoadEnd: number; idleRatePerS: number; countedBy?: string };
}

export interface RunEvidence {
  runId: string;
  records: RequestRecord[];
  window: FaultWindow;
  /** Epoch ms the load started; record times and the window count from it. */
  loadStartedAt: number;
  facts: Record<string, unknown>;
  dbSamples: DbSample[];
  edge?: EdgeTraffic;
  orders(): Promise<RunOrder[]>;
  keys(): Promise<KeyRecord[]>;
  outbox(): Promise<OutboxRow[]>;
  inbox(): Promise<InboxRow[]>;
  reservations(): Promise<ReservationRow[]>;
  deliveries(): Promise<DeliveryRow[]>;
  notifications(): Promise<NotificationRow[]>;
  /** undefined: the stock was not read before the load. */
  stock(): Promise<StockBook | undefined>;
  /** undefined: the target cannot read the topics (or the run's start offsets were not taken). */
  bus(): Promise<BusMessage[] | undefined>;
  dlq(): Promise<DlqEntry[] | undefined>;
  /** The target's Prometheus (undefined: none to ask). */
  prometheus?: PromQuery;
  /** The trace store's spans once `arrived` says the run's are in (or the time is up); undefined: no trace store. */
  spans(arrived: (spans: StoredSpan[]) => boolean, timeoutMs: number): Promise<StoredSpan[] | undefined>;
}

export const customerPattern = (runId: string) => `chaos-${runId}-%`;

/**
 * RunEvidence.spans for a trace store read by `read`: read again every `intervalMs` until `arrived` says the run's
 * spans are in (services export in batches) or `timeoutMs` is up; the last read either way.
 */
export function pollSpans(read: () => StoredSpan[] | Promise<StoredSpan[]>, intervalMs: number): RunEvidence['spans'] {
  return async (arrived, timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const spans = await read();
      if (arrived(spans) || Date.now() > deadline) return spans;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  };
}

/** Caches an async read: every check of a run sees the same rows, read once after convergence. */
export function once<T>(read: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= read());
}

const lines = (raw: unknown): Line[] =>
  ((raw as { sku: string; quantity: number }[] | null) ?? []).map((l) => ({
    sku: String(l.sku),
    quantity: Number(l.quantity),
  }));

/** Stock of every SKU (the catalogue is 50 rows): the start and the end of the stock book. */
export async function readStock(sql: SqlQuery): Promise<Record<string, number>> {
  const rows = await sql('inventory', 'SELECT sku, available FROM products');
  return Object.fromEntries(rows.map((r) => [String(r['sku']), Number(r['available'])]));
}

/**
 * The database half of a run's evidence, scoped to the run's customers and their orders, for any SQL executor.
 * `busEventIds` adds event ids seen on the topics to the inbox lookup (a dual write publishes without an outbox row).
 */
export function sqlEvidence(
  sql: SqlQuery,
  runId: string,
  busEventIds: () => Promise<string[]> = async () => [],
): Pick<RunEvidence, 'orders' | 'keys' | 'outbox' | 'inbox' | 'reservations' | 'deliveries' | 'notifications'> {
  const orders = once(async () => {
    const rows = await sql(
      'orders',
      `SELECT o.id::text AS id, o.status, o.customer_id,
              coalesce((SELECT json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity) ORDER BY i.line) FROM order_items i WHERE i.order_id = o.id), '[]'::json) AS items
         FROM orders o WHERE o.customer_id LIKE $1`,
      [customerPattern(runId)],
    );
    return rows.map((r): RunOrder => ({
      id: String(r['id']),
      status: r['status'] as RunOrder['status'],
      customer: String(r['customer_id']),
      items: lines(r['items']),
    }));
  });
  const ids = async () => (await orders()).map((o) => o.id);
  const outbox = once(async () => {
    const orderIds = await ids();
    const read = async (source: 'orders' | 'inventory') =>
      (
        await sql(
          source,
          'SELECT id::text AS id, aggregateid, type, tracingspancontext, (extract(epoch FROM created_at) * 1000)::float8 AS at FROM outbox WHERE aggregateid = ANY($1::text[])',
          [orderIds],
        )
      ).map((r): OutboxRow => ({
        source,
        eventId: String(r['id']),
        orderId: String(r['aggregateid']),
        type: String(r['type']),
        traceparent: (r['tracingspancontext'] as string | null) ?? null,
        createdAt: Number(r['at']),
      }));
    return [...(await read('orders')), ...(await read('inventory'))];
  });
  return {
    orders,
    keys: once(async () =>
      (
        await sql(
          'orders',
          'SELECT customer_id, key, order_id::text AS order_id FROM idempotency_keys WHERE customer_id LIKE $1',
          [customerPattern(runId)],
        )
      ).map((r) => ({
        customer: String(r['customer_id']),
        key: String(r['key']),
        orderId: String(r['order_id']),
      })),
    ),
    outbox,
    inbox: once(async () => {
      const eventIds = [...new Set([...(await outbox()).map((o) => o.eventId), ...(await busEventIds())])];
      const read = async (service: ServiceDatabase) =>
        (
          await sql(
            service,
            'SELECT consumer, event_id::text AS event_id FROM inbox WHERE event_id = ANY($1::uuid[])',
            [eventIds],
          )
        ).map((r): InboxRow => ({ service, consumer: String(r['consumer']), eventId: String(r['event_id']) }));
      return [...(await read('orders')), ...(await read('inventory')), ...(await read('notifications'))];
    }),
    reservations: once(async () =>
      (
        await sql(
          'inventory',
          `SELECT r.order_id::text AS order_id, r.status,
                  coalesce((SELECT json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity)) FROM reservation_items i WHERE i.order_id = r.order_id), '[]'::json) AS items
             FROM reservations r WHERE r.order_id = ANY($1::uuid[])`,
          [await ids()],
        )
      ).map((r): ReservationRow => ({
        orderId: String(r['order_id']),
        status: r['status'] as ReservationRow['status'],
        items: lines(r['items']),
      })),
    ),
    deliveries: once(async () =>
      (
        await sql(
          'notifications',
          'SELECT order_id::text AS order_id, event_id::text AS event_id, kind, (extract(epoch FROM delivered_at) * 1000)::float8 AS at FROM deliveries WHERE order_id = ANY($1::uuid[])',
          [await ids()],
        )
      ).map((r): DeliveryRow => ({
        orderId: String(r['order_id']),
        eventId: String(r['event_id']),
        kind: String(r['kind']),
        deliveredAt: Number(r['at']),
      })),
    ),
    notifications: once(async () =>
      (
        await sql(
          'notifications',
          'SELECT order_id::text AS order_id, kind, (extract(epoch FROM created_at) * 1000)::float8 AS at FROM notifications WHERE order_id = ANY($1::uuid[])',
          [await ids()],
        )
      ).map((r) => ({
        orderId: String(r['order_id']),
        kind: String(r['kind']),
        createdAt: Number(r['at']),
      })),
    ),
  };
}
