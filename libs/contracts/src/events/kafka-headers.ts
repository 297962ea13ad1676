// Kafka header names every event carries, set by the publisher (the outbox relay, or orders in dual-write mode) and
// read by every consumer. The body of a message is the event payload only; everything about the event lives here.
export const EVENT_HEADERS = Object.freeze({
  /** The event id (uuid, = the outbox row id): the key of every consumer's inbox, so redeliveries change nothing. */
  eventId: 'event-id',
  /** The event type, e.g. 'OrderPlaced': selects the payload schema. */
  eventType: 'event-type',
  /** The payload version as a decimal string, e.g. '1': selects the payload schema together with the type. */
  eventVersion: 'event-version',
  /** W3C trace context of the span that wrote the event, so one order is one trace across Kafka. */
  traceparent: 'traceparent',
  /**
   * Set by the relay: the commit time (epoch ms) of the transaction that wrote the event. Within a partition it only
   * grows (the relay publishes in commit order), so a consumer knows up to when it has applied everything.
   */
  committedAt: 'committed-at',
  /** Set only on DLQ messages: why processing failed (e.g. an EventValidationError's message). */
  dlqError: 'dlq-error',
} as const);

export type EventHeaderName = (typeof EVENT_HEADERS)[keyof typeof EVENT_HEADERS];
