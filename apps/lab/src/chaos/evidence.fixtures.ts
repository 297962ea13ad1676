// Test fixtures of a run's evidence (for the evaluators' and the history checker's specs): orders that went through
// the whole pipeline, built stage by stage, so a spec can break exactly one stage and see the check that must fail.
import type {
  BusMessage,
  DeliveryRow,
  InboxRow,
  KeyRecord,
  NotificationRow,
  OutboxRow,
  ReservationRow,
  RunEvidence,
  RunOrder,
  StockBook,
} from './evidence';
import type { RequestRecord } from '@faultline/load';

export interface EvidenceData {
  records?: RequestRecord[];
  window?: RunEvidence['window'];
  facts?: Record<string, unknown>;
  dbSamples?: RunEvidence['dbSamples'];
  edge?: RunEvidence['edge'];
  orders?: RunOrder[];
  keys?: KeyRecord[];
  outbox?: OutboxRow[];
  inbox?: InboxRow[];
  reservations?: ReservationRow[];
  deliveries?: DeliveryRow[];
  notifications?: NotificationRow[];
  stock?: StockBook;
  bus?: BusMessage[];
  dlq?: Awaited<ReturnType<RunEvidence['dlq']>>;
  spans?: Awaited<ReturnType<RunEvidence['spans']>>;
  /** Prometheus: the value each query answers whose text contains the key (no key matches: no series). */
  prometheus?: Record<string, number>;
}

export function fixtureEvidence(d: EvidenceData): RunEvidence {
  return {
    runId: 'fixture',
    records: d.records ?? [],
    window: d.window ?? { injectedAt: 1000, healedAt: 9000 },
    loadStartedAt: 1_700_000_000_000,
    facts: d.facts ?? {},
    dbSamples: d.dbSamples ?? [],
    edge: d.edge,
    orders: async () => d.orders ?? [],
    keys: async () => d.keys ?? [],
    outbox: async () => d.outbox ?? [],
    inbox: async () => d.inbox ?? [],
    reservations: async () => d.reservations ?? [],
    deliveries: async () => d.deliveries ?? [],
    notifications: async () => d.notifications ?? [],
    stock: async () => d.stock,
    bus: async () => d.bus,
    dlq: async () => d.dlq,
    spans: async () => d.spans,
    ...(d.prometheus
      ? {
          prometheus: async (promql: string) =>
            Object.entries(d.prometheus ?? {})
              .filter(([key]) => promql.includes(key))
              .map(([, value]) => ({ metric: {}, value })),
        }
      : {}),
  };
}

export interface PipelineOrder {
  id: string;
  status?: RunOrder['status'];
  sku?: string;
  quantity?: number;
  /** The client's view: 201 by default; 0 (timed out) makes the operation unknown. */
  answer?: number;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const uuid = (seed: string, part: number) => {
  let h = part;
  for (const c of seed) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `${hex(h, 8)}-0000-4000-8000-${hex(part, 12)}`;
};

/** Every stage's rows for orders that went all the way through, once each; the load's records and the stock too. */
export function pipeline(
  orders: PipelineOrder[],
  stockAtStart: Record<string, number> = {},
): Required<
  Pick<
    EvidenceData,
    | 'records'
    | 'orders'
    | 'keys'
    | 'outbox'
    | 'inbox'
    | 'reservations'
    | 'deliveries'
    | 'notifications'
    | 'bus'
    | 'stock'
  >
> {
  const d = {
    records: [] as RequestRecord[],
    orders: [] as RunOrder[],
    keys: [] as KeyRecord[],
    outbox: [] as OutboxRow[],
    inbox: [] as InboxRow[],
    reservations: [] as ReservationRow[],
    deliveries: [] as DeliveryRow[],
    notifications: [] as NotificationRow[],
    bus: [] as BusMessage[],
  };
  const end = { ...stockAtStart };
  orders.forEach((o, i) => {
    const status = o.status ?? 'CONFIRMED';
    const items = [{ sku: o.sku ?? 'SKU-0001', quantity: o.quantity ?? 1 }];
    const customer = `chaos-fixture-${String(i + 1).padStart(3, '0')}`;
    const key = `fixture-${i}`;
    const answer = o.answer ?? 201;
    const traceparent = `00-${hex(i + 1, 32)}-${hex(i + 1, 16)}-01`;
    d.records.push({
      t: 1500 + i * 10,
      route: 'POST /v1/orders',
      status: answer,
      ms: 20,
      key,
      customer,
      attempt: 1,
      ...(answer === 201 ? { orderId: o.id } : {}),
    });
    d.orders.push({ id: o.id, status, customer, items });
    d.keys.push({ customer, key, orderId: o.id });
    // A PENDING order's OrderPlaced never got out (a dual write that crashed): nothing downstream.
    if (status === 'PENDING') return;
    const event = (type: string, source: 'orders' | 'inventory', part: number) => {
      const eventId = uuid(o.id, part);
      d.outbox.push({ source, eventId, orderId: o.id, type, traceparent });
      d.bus.push({
        topic: source === 'orders' ? 'orders.events' : 'inventory.events',
        partition: i % 3,
        offset: String(d.bus.length),
        key: o.id,
        eventId,
        type,
        traceparent,
        timestamp: 0,
      });
      return eventId;
    };
    d.inbox.push({
      service: 'inventory',
      consumer: 'inventory-reservations',
      eventId: event('OrderPlaced', 'orders', 1),
    });
    d.reservations.push({
      orderId: o.id,
      status: status === 'CONFIRMED' ? 'RESERVED' : 'REJECTED',
      items: status === 'CONFIRMED' ? items : [],
    });
    d.inbox.push({
      service: 'orders',
      consumer: 'orders-saga',
      eventId: event(status === 'CONFIRMED' ? 'InventoryReserved' : 'InventoryRejected', 'inventory', 2),
    });
    const final = event(status === 'CONFIRMED' ? 'OrderConfirmed' : 'OrderRejected', 'orders', 3);
    d.inbox.push({ service: 'notifications', consumer: 'notifications', eventId: final });
    d.deliveries.push({ orderId: o.id, eventId: final, kind: `ORDER_${status}` });
    d.notifications.push({ orderId: o.id, kind: `ORDER_${status}` });
    if (status === 'CONFIRMED') for (const item of items) end[item.sku] = (end[item.sku] ?? 0) - item.quantity;
  });
  return { ...d, stock: { start: stockAtStart, end } };
}

/** The same message on the topic once more: what a relay that crashed before confirming publishes again. */
export function redeliver(bus: BusMessage[], orderId: string, type: string): BusMessage[] {
  const m = bus.find((x) => x.key === orderId && x.type === type);
  if (!m) throw new Error(`no ${type} of ${orderId} on the bus`);
  return [...bus, { ...m, offset: String(bus.length) }];
}
