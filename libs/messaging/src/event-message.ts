// The one way an event becomes a Kafka message, whoever publishes it (the relay from an outbox row, or orders'
// naive dual-write from an envelope): key = aggregate (order) id, value = the payload's JSON, headers = metadata.
import { EVENT_HEADERS, isEventType, eventTopic, toEventHeaders, type EventEnvelope } from '@faultline/contracts';
import { isOutboxRecord, type OutboxRecord } from '@faultline/outbox';

export interface EventMessage {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
  readonly headers: Record<string, string>;
  /** The event id, repeated from the headers for logs and metrics. */
  readonly eventId: string;
  readonly type: string;
}

export interface BuildMessageOptions {
  /**
   * Where an outbox row of a type this build does not know goes (the source's own topic): published anyway, so a
   * consumer dead-letters it visibly instead of the relay dropping it or stopping forever.
   */
  fallbackTopic?: string;
  /**
   * Every outbox row to this one topic, whatever its type: for a relay whose events must reach no consumer (the
   * bench's second relay, which drains a backlog of its own). Unset, each type goes to its own topic.
   */
  topic?: string;
}

export function buildEventMessage(
  event: EventEnvelope | OutboxRecord,
  options: BuildMessageOptions = {},
): EventMessage {
  if (isOutboxRecord(event)) {
    const topic = options.topic ?? (isEventType(event.type) ? eventTopic(event.type) : options.fallbackTopic);
    if (!topic) throw new Error(`outbox row ${event.id}: unknown event type "${event.type}" and no fallback topic`);
    return {
      topic,
      key: event.aggregateid,
      value: JSON.stringify(event.payload),
      headers: {
        ...toEventHeaders({
          eventId: event.id,
          type: event.type,
          version: event.version,
          ...(event.tracingspancontext ? { traceparent: event.tracingspancontext } : {}),
        }),
        ...(event.committedAt === undefined ? {} : { [EVENT_HEADERS.committedAt]: String(event.committedAt) }),
      },
      eventId: event.id,
      type: event.type,
    };
  }
  return {
    topic: event.topic,
    key: event.key,
    value: JSON.stringify(event.payload),
    headers: toEventHeaders(event.metadata),
    eventId: event.metadata.eventId,
    type: event.metadata.type,
  };
}

/**
 * Header values as strings (kafkajs delivers Buffers), dropping absent ones; the last value wins for repeated names.
 */
export function headersToStrings(headers: Readonly<Record<string, unknown>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value === undefined || value === null) continue;
    out[name] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  }
  return out;
}
