// The metadata that travels with every event (outbox columns on the way in, Kafka headers and key on the way out),
// and the helpers that create it and map it to and from Kafka headers.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { timestampSchema } from './event-fields';
import {
  EVENT_REGISTRY,
  parseEvent,
  type CurrentEventVersion,
  type EventPayload,
  type EventType,
  type ParsedEventOf,
} from './event-registry';
import { EventValidationError, type EventValidationIssue } from './event-validation.error';
import { EVENT_HEADERS } from './kafka-headers';

/** W3C trace context `traceparent`: version-traceid-parentid-flags, lowercase hex. */
export const TRACEPARENT_PATTERN = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export const eventMetadataSchema = z.object({
  /** uuid; the outbox row id and the consumers' inbox key. */
  eventId: z.uuid(),
  type: z.string().min(1),
  version: z.int().min(1),
  /** The outbox `aggregatetype` column (see AGGREGATE_TYPES). */
  aggregateType: z.string().min(1),
  /** The outbox `aggregateid` column and the Kafka message key: the order id. */
  aggregateId: z.string().min(1),
  occurredAt: timestampSchema,
  traceparent: z.string().regex(TRACEPARENT_PATTERN).optional(),
});
export type EventMetadata = z.infer<typeof eventMetadataSchema>;

/**
 * An event ready to be written to an outbox (or published): validated payload plus its metadata. Without a type
 * argument it is the union of every event's envelope, so a list of different events (or a function taking any
 * event) accepts each specific envelope that createEvent returns.
 */
export type EventEnvelope<T extends EventType = EventType> = { [K in T]: EventEnvelopeOf<K> }[T];

interface EventEnvelopeOf<T extends EventType> {
  readonly metadata: EventMetadata & { readonly type: T; readonly version: CurrentEventVersion<T> };
  readonly payload: ParsedEventOf<T>['payload'];
  /** The topic it belongs on. */
  readonly topic: string;
  /** The Kafka message key (the order id). */
  readonly key: string;
}

/**
 * Producer side: validates a payload against the CURRENT version of its type (throws EventValidationError) and wraps
 * it with fresh metadata. A producer never writes an event a consumer would reject.
 */
export function createEvent<T extends EventType>(
  type: T,
  payload: EventPayload<T>,
  options: { eventId?: string; occurredAt?: Date; traceparent?: string } = {},
): EventEnvelope<T> {
  const entry = EVENT_REGISTRY[type];
  const parsed = parseEvent(type, entry.currentVersion, payload);
  const metadata = {
    eventId: options.eventId ?? randomUUID(),
    type,
    version: entry.currentVersion as CurrentEventVersion<T>,
    aggregateType: entry.aggregateType,
    aggregateId: parsed.payload.orderId,
    occurredAt: (options.occurredAt ?? new Date()).toISOString(),
    ...(options.traceparent === undefined ? {} : { traceparent: options.traceparent }),
  };
  const checked = eventMetadataSchema.safeParse(metadata);
  if (!checked.success) {
    throw new EventValidationError(type, String(entry.currentVersion), toIssues('metadata', checked.error));
  }
  // TypeScript cannot narrow the registry entry through the generic T; parseEvent above checked the payload.
  return { metadata, payload: parsed.payload, topic: entry.topic, key: parsed.payload.orderId } as EventEnvelope<T>;
}

/** The Kafka headers of an event (values are strings; Kafka clients encode them as UTF-8). */
export function toEventHeaders(
  metadata: Pick<EventMetadata, 'eventId' | 'type' | 'version' | 'traceparent'>,
): Record<string, string> {
  return {
    [EVENT_HEADERS.eventId]: metadata.eventId,
    [EVENT_HEADERS.eventType]: metadata.type,
    [EVENT_HEADERS.eventVersion]: String(metadata.version),
    ...(metadata.traceparent ? { [EVENT_HEADERS.traceparent]: metadata.traceparent } : {}),
  };
}

/** Kafka headers as kafkajs delivers them. */
export type KafkaHeaders = Readonly<Record<string, Buffer | string | readonly (Buffer | string)[] | undefined>>;

export interface EventHeaders {
  readonly eventId: string;
  readonly eventType: string;
  /** As received; parseEvent checks it against the registry. */
  readonly eventVersion: string;
  readonly traceparent?: string;
}

function headerValue(headers: KafkaHeaders, name: string): string | undefined {
  const raw = headers[name];
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  return value === undefined ? undefined : value.toString();
}

/**
 * Consumer side: reads and checks the event headers (throws EventValidationError naming each missing or malformed
 * header). Then call `parseEvent(h.eventType, h.eventVersion, JSON.parse(body))`. A malformed `traceparent` is
 * dropped rather than rejected: losing a trace link must never send a good event to the DLQ.
 */
export function parseEventHeaders(headers: KafkaHeaders): EventHeaders {
  const eventId = headerValue(headers, EVENT_HEADERS.eventId);
  const eventType = headerValue(headers, EVENT_HEADERS.eventType);
  const eventVersion = headerValue(headers, EVENT_HEADERS.eventVersion);
  const traceparent = headerValue(headers, EVENT_HEADERS.traceparent);
  const issues: EventValidationIssue[] = [];
  if (!eventId || !z.uuid().safeParse(eventId).success) {
    issues.push({ path: `headers.${EVENT_HEADERS.eventId}`, message: eventId ? 'not a uuid' : 'missing' });
  }
  if (!eventType) issues.push({ path: `headers.${EVENT_HEADERS.eventType}`, message: 'missing' });
  if (!eventVersion) issues.push({ path: `headers.${EVENT_HEADERS.eventVersion}`, message: 'missing' });
  if (issues.length > 0) throw new EventValidationError(eventType ?? '', eventVersion ?? '', issues);
  return {
    eventId: eventId as string,
    eventType: eventType as string,
    eventVersion: eventVersion as string,
    ...(traceparent && TRACEPARENT_PATTERN.test(traceparent) ? { traceparent } : {}),
  };
}

function toIssues(prefix: string, error: z.ZodError): EventValidationIssue[] {
  return error.issues.map((issue) => ({ path: [prefix, ...issue.path.map(String)].join('.'), message: issue.message }));
}
