// Kafka topic names. Each topic carries one service's events, keyed by order id so that one order's events stay in
// order within a partition.
export const ORDERS_EVENTS_TOPIC = 'orders.events';
export const INVENTORY_EVENTS_TOPIC = 'inventory.events';

export const EVENT_TOPICS = Object.freeze([ORDERS_EVENTS_TOPIC, INVENTORY_EVENTS_TOPIC] as const);
export type EventTopic = (typeof EVENT_TOPICS)[number];

/** Where a consumer parks a message it could not process after bounded retries: `<topic>.dlq`. */
export function dlqTopic<T extends string>(topic: T): `${T}.dlq` {
  return `${topic}.dlq`;
}
