// The poison messages of poison-message and dlq-replay, one definition for both targets (kafkajs locally, Kafka's
// console producer on kind): a message the schema refuses (quantity 0: no retry can fix it, straight to the DLQ), and
// a valid OrderConfirmed whose effect cannot be written (a NUL character in the customer id, which Postgres text
// refuses), which notifications retries a bounded number of times, then dead-letters, and moves on.
import { randomUUID } from 'node:crypto';
import { EVENT_HEADERS } from '@faultline/contracts';
import type { Poison } from './checks';
import { POISON_CUSTOMER } from './reconcile';

export interface PoisonMessage {
  kind: Poison['kind'];
  type: string;
  eventId: string;
  /** The message key: the order the poison is about. */
  orderId: string;
  value: string;
  headers: Record<string, string>;
}

export function poisonMessages(at: Date): PoisonMessage[] {
  const message = (kind: Poison['kind'], type: string, payload: Record<string, unknown>): PoisonMessage => {
    const orderId = randomUUID();
    const eventId = randomUUID();
    return {
      kind,
      type,
      eventId,
      orderId,
      value: JSON.stringify({ orderId, ...payload }),
      headers: { [EVENT_HEADERS.eventId]: eventId, [EVENT_HEADERS.eventType]: type, [EVENT_HEADERS.eventVersion]: '1' },
    };
  };
  return [
    message('validation', 'OrderPlaced', {
      customerId: POISON_CUSTOMER,
      items: [{ sku: 'SKU-0042', quantity: 0 }],
      placedAt: at.toISOString(),
    }),
    message('handler', 'OrderConfirmed', { customerId: `${POISON_CUSTOMER}-\u0000`, confirmedAt: at.toISOString() }),
  ];
}

/** The dead letter's payload with what Postgres refused corrected: what the operator replays in dlq-replay. */
export const correctedPoison = (value: string): Record<string, unknown> => ({
  ...(JSON.parse(value) as Record<string, unknown>),
  customerId: `${POISON_CUSTOMER}-repaired`,
});
