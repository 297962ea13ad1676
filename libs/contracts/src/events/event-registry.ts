// Every event type, its topic, its aggregate and the payload schema of each of its versions. Producers validate
// before writing (createEvent), consumers validate after reading (parseEvent): both sides use this one table.
import type { z } from 'zod';
import { EventValidationError, type EventValidationIssue } from './event-validation.error';
import { inventoryRejectedV1Schema, inventoryReservedV1Schema } from './inventory.events';
import { orderConfirmedV1Schema, orderPlacedV1Schema, orderRejectedV1Schema } from './orders.events';
import { INVENTORY_EVENTS_TOPIC, ORDERS_EVENTS_TOPIC } from './topics';

/** Aggregate types as written to the outbox `aggregatetype` column; the aggregate id is always the order id. */
export const AGGREGATE_TYPES = Object.freeze({
  order: 'order',
  /** Inventory's reservation for one order (keyed by the order id, like every other event of that order). */
  reservation: 'reservation',
} as const);

export const EVENT_REGISTRY = {
  OrderPlaced: {
    topic: ORDERS_EVENTS_TOPIC,
    aggregateType: AGGREGATE_TYPES.order,
    currentVersion: 1,
    versions: { 1: orderPlacedV1Schema },
  },
  OrderConfirmed: {
    topic: ORDERS_EVENTS_TOPIC,
    aggregateType: AGGREGATE_TYPES.order,
    currentVersion: 1,
    versions: { 1: orderConfirmedV1Schema },
  },
  OrderRejected: {
    topic: ORDERS_EVENTS_TOPIC,
    aggregateType: AGGREGATE_TYPES.order,
    currentVersion: 1,
    versions: { 1: orderRejectedV1Schema },
  },
  InventoryReserved: {
    topic: INVENTORY_EVENTS_TOPIC,
    aggregateType: AGGREGATE_TYPES.reservation,
    currentVersion: 1,
    versions: { 1: inventoryReservedV1Schema },
  },
  InventoryRejected: {
    topic: INVENTORY_EVENTS_TOPIC,
    aggregateType: AGGREGATE_TYPES.reservation,
    currentVersion: 1,
    versions: { 1: inventoryRejectedV1Schema },
  },
} as const;

type Registry = typeof EVENT_REGISTRY;
export type EventType = keyof Registry;
/** The versions of an event type that consumers accept. */
export type EventVersion<T extends EventType> = keyof Registry[T]['versions'] & number;
/** The version producers write. */
export type CurrentEventVersion<T extends EventType> = Registry[T]['currentVersion'];
export type EventPayload<T extends EventType, V extends EventVersion<T> = CurrentEventVersion<T>> = z.output<
  Registry[T]['versions'][V]
>;

/** A validated event: narrow on `type` (and `version`, once a type has several) to get the payload's type. */
export type ParsedEvent = {
  [T in EventType]: {
    [V in EventVersion<T>]: { readonly type: T; readonly version: V; readonly payload: EventPayload<T, V> };
  }[EventVersion<T>];
}[EventType];
export type ParsedEventOf<T extends EventType> = Extract<ParsedEvent, { type: T }>;

export const EVENT_TYPES = Object.freeze(Object.keys(EVENT_REGISTRY) as EventType[]);

export function isEventType(type: unknown): type is EventType {
  return typeof type === 'string' && Object.hasOwn(EVENT_REGISTRY, type);
}

/** The topic an event type is published on. */
export function eventTopic(type: EventType): Registry[EventType]['topic'] {
  return EVENT_REGISTRY[type].topic;
}

/** The Kafka message key of an event: its order id, so one order's events stay ordered. */
export function eventKey(event: ParsedEvent): string {
  return event.payload.orderId;
}

function parseVersion(version: unknown): number | undefined {
  if (typeof version === 'number' && Number.isSafeInteger(version) && version > 0) return version;
  if (typeof version === 'string' && /^[1-9][0-9]{0,8}$/.test(version)) return Number(version);
  return undefined;
}

/**
 * Validates an event against the schema of its type and version and returns it typed. `version` may be the header's
 * decimal string. Throws EventValidationError (never anything else) for an unknown type, an unknown or malformed
 * version, or a payload that fails its schema; the error lists every offending field. Unknown payload fields are
 * dropped (tolerant reader).
 */
export function parseEvent<T extends EventType>(type: T, version: number | string, payload: unknown): ParsedEventOf<T>;
export function parseEvent(type: string, version: number | string, payload: unknown): ParsedEvent;
export function parseEvent(type: string, version: number | string, payload: unknown): ParsedEvent {
  const typeLabel = typeof type === 'string' ? type : String(type);
  const versionLabel = String(version);
  if (!isEventType(type)) {
    throw new EventValidationError(typeLabel, versionLabel, [
      { path: 'type', message: `unknown event type "${typeLabel}"; known: ${EVENT_TYPES.join(', ')}` },
    ]);
  }
  const entry = EVENT_REGISTRY[type];
  const versions: Readonly<Record<string, z.ZodType>> = entry.versions;
  const parsedVersion = parseVersion(version);
  const schema = parsedVersion === undefined ? undefined : versions[String(parsedVersion)];
  if (parsedVersion === undefined || !schema) {
    throw new EventValidationError(type, versionLabel, [
      {
        path: 'version',
        message: `unknown version "${versionLabel}" of ${type}; known: ${Object.keys(versions).join(', ')}`,
      },
    ]);
  }
  const result = schema.safeParse(payload);
  if (!result.success) {
    const issues: EventValidationIssue[] = result.error.issues.map((issue) => ({
      path: ['payload', ...issue.path.map(String)].join('.'),
      message: issue.message,
    }));
    throw new EventValidationError(type, versionLabel, issues);
  }
  return { type, version: parsedVersion, payload: result.data } as ParsedEvent;
}
