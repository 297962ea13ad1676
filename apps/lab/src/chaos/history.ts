// The run as a history of operations, judged the way Jepsen judges one: every order the load tried to place was
// invoked, then ok, failed or unknown (a timeout or a dropped connection: the client cannot know), and each stage
// of the pipeline is compared with what was acknowledged — lost (acknowledged, never there), unexpected (there,
// never acknowledged nor in doubt), duplicated (there more than once as an effect), recovered (in doubt to the client,
// yet it happened), as Jepsen's total-queue checker counts them; stock is judged as its bank checker judges
// balances: conserved, never negative. Pure functions over the run's evidence, so fixtures can break each rule.
import type {
  BusMessage,
  DeliveryRow,
  InboxRow,
  KeyRecord,
  OutboxRow,
  ReservationRow,
  RunOrder,
  StockBook,
} from './evidence';
import type { RequestRecord } from '@faultline/load';

export type Outcome = 'ok' | 'failed' | 'unknown';

/** One order the client tried to place: all attempts with its Idempotency-Key. */
export interface Operation {
  key: string;
  customer: string;
  /** ms since the load started, of the first attempt. */
  invokedAt: number;
  outcome: Outcome;
  /** The order id the client was told (ok only). */
  orderId?: string;
  statuses: number[];
}

/**
 * What one answer tells the client. 2xx: it happened. 4xx but 409 (invalid, unauthorised, limited, a key reused with
 * another body): refused before any write. No answer, 409 (the first attempt is still running) and any 5xx: it may
 * have happened — a 503 is as often a dependency that died mid-call (gRPC UNAVAILABLE) as a request shed up front.
 */
export function attemptOutcome(status: number): Outcome {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 0 || status === 409 || status >= 500) return 'unknown';
  return 'failed';
}

/** The load's POST /v1/orders records as operations, one per key; ok wins over unknown, unknown over failed. */
export function orderHistory(records: readonly RequestRecord[]): Operation[] {
  const ops = new Map<string, Operation>();
  for (const r of records) {
    if (r.route !== 'POST /v1/orders' || !r.key) continue;
    const op = ops.get(r.key) ?? {
      key: r.key,
      customer: r.customer ?? '',
      invokedAt: r.t,
      outcome: 'failed' as Outcome,
      statuses: [],
    };
    op.statuses.push(r.status);
    op.invokedAt = Math.min(op.invokedAt, r.t);
    const outcome = attemptOutcome(r.status);
    if (outcome === 'ok') {
      op.outcome = 'ok';
      op.orderId ??= r.orderId;
    } else if (outcome === 'unknown' && op.outcome === 'failed') op.outcome = 'unknown';
    ops.set(r.key, op);
  }
  return [...ops.values()];
}

/** The stages an order passes through, in order; an experiment may leave out those its variant does not have. */
export const PIPELINE_STAGES = [
  'orders',
  'outbox:placed',
  'bus:placed',
  'inbox:inventory',
  'reservations',
  'outbox:answer',
  'bus:answer',
  'inbox:orders',
  'final',
  'outbox:final',
  'bus:final',
  'inbox:notifications',
  'deliveries',
] as const;
export type PipelineStage = (typeof PIPELINE_STAGES)[number];

export interface StageFinding {
  stage: PipelineStage;
  /** Orders expected here: acknowledged, or in doubt and found in the orders database. */
  expected: number;
  present: number;
  lost: string[];
  unexpected: string[];
  duplicated: string[];
  /** Bus stages: orders whose event was on the topic more than once (at-least-once; the consumers must absorb it). */
  redelivered: string[];
}

export interface PipelineFinding {
  ops: { invoked: number; ok: number; failed: number; unknown: number; recovered: number };
  stages: StageFinding[];
  /** Orders written only in part: a row without its lines (the one transaction was not one). */
  partial: string[];
  /** A trace id per order, where one is known (outbox row or Kafka header): the minimal example of a violation. */
  traceOf: Record<string, string>;
}

export interface PipelineInput {
  ops: Operation[];
  orders: RunOrder[];
  keys: KeyRecord[];
  outbox: OutboxRow[];
  inbox: InboxRow[];
  reservations: ReservationRow[];
  deliveries: DeliveryRow[];
  /** undefined: the topics could not be read; their stages are then left out (and said so by the caller). */
  bus: BusMessage[] | undefined;
}

const FINAL_TYPES = new Set(['OrderConfirmed', 'OrderRejected']);
const ANSWER_TYPES = new Set(['InventoryReserved', 'InventoryRejected']);
const traceIdOf = (traceparent: string | null | undefined) =>
  /^[0-9a-f]{2}-([0-9a-f]{32})-/.exec(traceparent ?? '')?.[1];

function countBy<T>(items: readonly T[], key: (item: T) => string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** Per stage, the run's orders judged against the history (see the header). */
export function checkPipeline(
  input: PipelineInput,
  stages: readonly PipelineStage[] = PIPELINE_STAGES,
): PipelineFinding {
  const { ops, orders, keys, outbox, inbox, reservations, deliveries, bus } = input;
  const orderOfKey = new Map(keys.map((k) => [`${k.customer} ${k.key}`, k.orderId]));
  const acked = new Set(ops.filter((o) => o.outcome === 'ok' && o.orderId).map((o) => o.orderId as string));
  const inDoubt = new Set(
    ops.filter((o) => o.outcome === 'unknown').flatMap((o) => orderOfKey.get(`${o.customer} ${o.key}`) ?? []),
  );
  const recovered = [...inDoubt].filter((id) => orders.some((o) => o.id === id));
  const expected = new Set([...acked, ...recovered]);
  const keyedOrders = new Set(keys.map((k) => k.orderId));

  // The topics carry everyone's events during the run: only the run's orders (in its database, or acknowledged) count.
  const runIds = new Set([...orders.map((o) => o.id), ...acked]);
  const busOf = (types: Set<string>, topic: string) =>
    (bus ?? []).filter((m) => m.topic === topic && types.has(m.type ?? '') && m.key !== null && runIds.has(m.key));
  const placedBus = busOf(new Set(['OrderPlaced']), 'orders.events');
  const answerBus = busOf(ANSWER_TYPES, 'inventory.events');
  const finalBus = busOf(FINAL_TYPES, 'orders.events');
  // Event ids per order and kind, from the outbox and the topics alike (a dual write has no outbox row).
  const eventIds = (types: Set<string>, messages: BusMessage[]) => {
    const byOrder = new Map<string, Set<string>>();
    const add = (orderId: string, eventId: string) =>
      byOrder.set(orderId, (byOrder.get(orderId) ?? new Set()).add(eventId));
    for (const o of outbox) if (types.has(o.type)) add(o.orderId, o.eventId);
    for (const m of messages) if (m.key && m.eventId) add(m.key, m.eventId);
    return byOrder;
  };
  const inboxOf = (service: InboxRow['service']) =>
    new Set(inbox.filter((i) => i.service === service).map((i) => i.eventId));
  const recordedIn = (service: InboxRow['service'], byOrder: Map<string, Set<string>>) => {
    const seen = inboxOf(service);
    const counts = new Map<string, number>();
    for (const [orderId, ids] of byOrder) if ([...ids].some((id) => seen.has(id))) counts.set(orderId, 1);
    return counts;
  };
  const distinctEventsOnBus = (messages: BusMessage[]) => {
    // Redelivery is the same event id twice; a second event id for one order is a second effect upstream.
    const byOrder = new Map<string, Map<string, number>>();
    for (const m of messages) {
      if (!m.key || !m.eventId) continue;
      const events = byOrder.get(m.key) ?? new Map<string, number>();
      events.set(m.eventId, (events.get(m.eventId) ?? 0) + 1);
      byOrder.set(m.key, events);
    }
    return byOrder;
  };

  const placedIds = eventIds(new Set(['OrderPlaced']), placedBus);
  const answerIds = eventIds(ANSWER_TYPES, answerBus);
  const finalIds = eventIds(FINAL_TYPES, finalBus);
  const presence: Record<PipelineStage, () => { counts: Map<string, number>; redelivered?: string[] }> = {
    orders: () => ({ counts: countBy(orders, (o) => o.id) }),
    'outbox:placed': () => ({
      counts: countBy(outbox, (o) => (o.source === 'orders' && o.type === 'OrderPlaced' ? o.orderId : undefined)),
    }),
    'bus:placed': () => busStage(placedBus),
    'inbox:inventory': () => ({ counts: recordedIn('inventory', placedIds) }),
    reservations: () => ({ counts: countBy(reservations, (r) => r.orderId) }),
    'outbox:answer': () => ({
      counts: countBy(outbox, (o) => (o.source === 'inventory' && ANSWER_TYPES.has(o.type) ? o.orderId : undefined)),
    }),
    'bus:answer': () => busStage(answerBus),
    'inbox:orders': () => ({ counts: recordedIn('orders', answerIds) }),
    final: () => ({ counts: countBy(orders, (o) => (o.status === 'PENDING' ? undefined : o.id)) }),
    'outbox:final': () => ({
      counts: countBy(outbox, (o) => (o.source === 'orders' && FINAL_TYPES.has(o.type) ? o.orderId : undefined)),
    }),
    'bus:final': () => busStage(finalBus),
    'inbox:notifications': () => ({ counts: recordedIn('notifications', finalIds) }),
    deliveries: () => ({ counts: countBy(deliveries, (d) => d.orderId) }),
  };
  function busStage(messages: BusMessage[]) {
    const byOrder = distinctEventsOnBus(messages);
    const counts = new Map<string, number>();
    const redelivered: string[] = [];
    for (const [orderId, events] of byOrder) {
      counts.set(orderId, events.size);
      if ([...events.values()].some((n) => n > 1)) redelivered.push(orderId);
    }
    return { counts, redelivered };
  }

  const used = stages.filter((s) => bus !== undefined || !s.startsWith('bus:'));
  const findings = used.map((stage): StageFinding => {
    const { counts, redelivered = [] } = presence[stage]();
    const present = [...counts.keys()];
    return {
      stage,
      expected: expected.size,
      present: present.length,
      lost: [...expected].filter((id) => !counts.has(id)).sort(),
      // Neither acknowledged nor in doubt; and at the orders stage, an order without an idempotency record.
      unexpected: present
        .filter((id) => !(acked.has(id) || inDoubt.has(id)) || (stage === 'orders' && !keyedOrders.has(id)))
        .sort(),
      duplicated: present.filter((id) => (counts.get(id) ?? 0) > 1).sort(),
      redelivered: redelivered.sort(),
    };
  });

  const traceOf: Record<string, string> = {};
  for (const o of outbox) {
    const id = traceIdOf(o.traceparent);
    if (id && !traceOf[o.orderId]) traceOf[o.orderId] = id;
  }
  for (const m of bus ?? []) {
    const id = traceIdOf(m.traceparent);
    if (id && m.key && !traceOf[m.key]) traceOf[m.key] = id;
  }
  return {
    ops: {
      invoked: ops.length,
      ok: ops.filter((o) => o.outcome === 'ok').length,
      failed: ops.filter((o) => o.outcome === 'failed').length,
      unknown: ops.filter((o) => o.outcome === 'unknown').length,
      recovered: recovered.length,
    },
    stages: findings,
    partial: orders
      .filter((o) => o.items.length === 0)
      .map((o) => o.id)
      .sort(),
    traceOf,
  };
}

export interface SkuBook {
  sku: string;
  start: number;
  end: number;
  /** Units of the run's CONFIRMED orders (orders database) and of its RESERVED reservations (inventory database). */
  confirmed: number;
  reserved: number;
  confirmedOrders: string[];
}

export interface StockFinding {
  skus: SkuBook[];
  /** start − confirmed ≠ end. */
  notConserved: SkuBook[];
  /** confirmed > start: more sold than there was. */
  oversold: SkuBook[];
  negative: SkuBook[];
  /** Orders whose final state and reservation disagree (CONFIRMED without RESERVED, or the other way round). */
  disagreeing: string[];
}

/** The bank check on stock, for every SKU the run's orders touched. */
export function checkStock(
  book: StockBook,
  orders: readonly RunOrder[],
  reservations: readonly ReservationRow[],
): StockFinding {
  const touched = [...new Set(orders.flatMap((o) => o.items.map((i) => i.sku)))].sort();
  const reservationOf = new Map(reservations.map((r) => [r.orderId, r]));
  const skus = touched.map((sku): SkuBook => {
    const confirmedOrders = orders.filter((o) => o.status === 'CONFIRMED' && o.items.some((i) => i.sku === sku));
    const units = (items: readonly { sku: string; quantity: number }[]) =>
      items.filter((i) => i.sku === sku).reduce((sum, i) => sum + i.quantity, 0);
    return {
      sku,
      start: book.start[sku] ?? 0,
      end: book.end[sku] ?? 0,
      confirmed: confirmedOrders.reduce((sum, o) => sum + units(o.items), 0),
      reserved: orders.reduce((sum, o) => {
        const r = reservationOf.get(o.id);
        return sum + (r?.status === 'RESERVED' ? units(r.items) : 0);
      }, 0),
      confirmedOrders: confirmedOrders.map((o) => o.id).sort(),
    };
  });
  const disagreeing = orders
    .filter((o) => o.status !== 'PENDING')
    .filter((o) => {
      const r = reservationOf.get(o.id);
      return (o.status === 'CONFIRMED') !== (r?.status === 'RESERVED');
    })
    .map((o) => o.id)
    .sort();
  return {
    skus,
    notConserved: skus.filter((s) => s.start - s.confirmed !== s.end || s.reserved !== s.confirmed),
    oversold: skus.filter((s) => s.confirmed > s.start),
    negative: skus.filter((s) => s.end < 0),
    disagreeing,
  };
}
