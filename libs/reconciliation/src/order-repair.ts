import { createHash } from 'node:crypto';
import { createEvent, type EventEnvelope } from '@faultline/contracts';
import { queryRows, type SqlExecutor } from '@faultline/database/sql';
import { appendToOutbox } from '@faultline/outbox';

/** What repairing one order did: the event it put (back) into the outbox, and whether that row existed already. */
export interface RepairedEvent {
  orderId: string;
  type: 'OrderPlaced' | 'OrderConfirmed' | 'OrderRejected';
  eventId: string;
  /**
   * `re-emitted`: the outbox row existed and was written again, same id; `rebuilt`: it never existed (a dual write).
   */
  how: 're-emitted' | 'rebuilt';
}

/**
 * The event id a rebuilt event gets: the same for the same order and type, however often the repair runs, so that
 * consumers' inboxes absorb a second repair (a name-based UUID, version 5 layout).
 */
export function repairEventId(orderId: string, type: string): string {
  const h = createHash('sha1').update(`faultline-repair:${orderId}:${type}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

interface OrderRow {
  id: string;
  customer_id: string;
  status: 'PENDING' | 'CONFIRMED' | 'REJECTED';
  reject_reason: string | null;
  created_at: Date;
  updated_at: Date;
  items: { sku: string; quantity: number }[];
}

/**
 * Puts the event an order is missing downstream back into the outbox, so the relay publishes it again: a PENDING
 * order's OrderPlaced, a final order's outcome event. A row still in the outbox is deleted and inserted again, same id
 * and payload, in one transaction (the relay sees a new insert; consumers that saw it the first time absorb it); an
 * event that never entered the outbox (a dual write) is rebuilt from the order, with an id that is the same on every
 * repair. Consumers answer an order once whatever the event id (inventory keeps one reservation per order, orders
 * only moves a PENDING order), so repairing an order that was not lost changes nothing either.
 */
export async function repairOrders(db: SqlExecutor, orderIds: readonly string[]): Promise<RepairedEvent[]> {
  if (orderIds.length === 0) return [];
  const orders = await queryRows<OrderRow>(
    db,
    `SELECT o.id::text AS id, o.customer_id, o.status, o.reject_reason, o.created_at, o.updated_at,
              coalesce((SELECT json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity) ORDER BY i.line) FROM order_items i WHERE i.order_id = o.id), '[]'::json) AS items
         FROM orders o WHERE o.id = ANY($1::uuid[]) ORDER BY o.id`,
    [orderIds],
  );
  const repaired: RepairedEvent[] = [];
  for (const order of orders) {
    const type =
      order.status === 'PENDING' ? 'OrderPlaced' : order.status === 'CONFIRMED' ? 'OrderConfirmed' : 'OrderRejected';
    await db.query('BEGIN');
    try {
      const [existing] = await queryRows(
        db,
        'DELETE FROM outbox WHERE aggregateid = $1 AND type = $2 RETURNING id::text AS id, aggregatetype, aggregateid, type, version, payload, tracingspancontext, created_at',
        [order.id, type],
      );
      if (existing) {
        await db.query(
          'INSERT INTO outbox (id, aggregatetype, aggregateid, type, version, payload, tracingspancontext, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
          [
            existing['id'],
            existing['aggregatetype'],
            existing['aggregateid'],
            existing['type'],
            existing['version'],
            typeof existing['payload'] === 'string' ? existing['payload'] : JSON.stringify(existing['payload']),
            existing['tracingspancontext'],
            existing['created_at'],
          ],
        );
        repaired.push({ orderId: order.id, type, eventId: String(existing['id']), how: 're-emitted' });
      } else {
        const event = rebuild(order, type);
        await appendToOutbox(db, [event]);
        repaired.push({ orderId: order.id, type, eventId: event.metadata.eventId, how: 'rebuilt' });
      }
      await db.query('COMMIT');
    } catch (error) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
  return repaired;
}

function rebuild(order: OrderRow, type: RepairedEvent['type']): EventEnvelope {
  const eventId = repairEventId(order.id, type);
  const base = { orderId: order.id, customerId: order.customer_id };
  if (type === 'OrderPlaced')
    return createEvent(
      'OrderPlaced',
      { ...base, items: order.items, placedAt: new Date(order.created_at).toISOString() },
      { eventId },
    );
  if (type === 'OrderConfirmed')
    return createEvent(
      'OrderConfirmed',
      { ...base, confirmedAt: new Date(order.updated_at).toISOString() },
      { eventId },
    );
  return createEvent(
    'OrderRejected',
    {
      ...base,
      reason: order.reject_reason ?? 'INSUFFICIENT_STOCK',
      rejectedAt: new Date(order.updated_at).toISOString(),
    },
    { eventId },
  );
}
