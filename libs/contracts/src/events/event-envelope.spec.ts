import {
  EVENT_HEADERS,
  EventValidationError,
  createEvent,
  parseEvent,
  parseEventHeaders,
  toEventHeaders,
} from './index';

const orderId = '0b9d6f52-3c1e-4a8f-9d2b-6f1e2a3b4c5d';
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('event envelope', () => {
  it('creates a validated event with metadata, topic and key', () => {
    const event = createEvent(
      'OrderConfirmed',
      { orderId, customerId: 'alice', confirmedAt: '2025-01-31T12:00:00.000Z' },
      { occurredAt: new Date('2025-01-31T12:00:01.000Z'), traceparent },
    );
    expect(event.topic).toBe('orders.events');
    expect(event.key).toBe(orderId);
    expect(event.metadata).toMatchObject({
      type: 'OrderConfirmed',
      version: 1,
      aggregateType: 'order',
      aggregateId: orderId,
      occurredAt: '2025-01-31T12:00:01.000Z',
      traceparent,
    });
    expect(event.metadata.eventId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses to create an event a consumer would reject', () => {
    expect(() =>
      createEvent('OrderPlaced', { orderId, customerId: 'alice', items: [], placedAt: '2025-01-31T12:00:00Z' }),
    ).toThrow(EventValidationError);
    expect(() =>
      createEvent(
        'OrderConfirmed',
        { orderId, customerId: 'a', confirmedAt: '2025-01-31T12:00:00Z' },
        { eventId: 'x' },
      ),
    ).toThrow(/metadata\.eventId/);
  });

  it('round-trips through Kafka headers (Buffers, as kafkajs delivers them) and the JSON body', () => {
    const event = createEvent(
      'InventoryRejected',
      { orderId, reason: 'INSUFFICIENT_STOCK', rejectedAt: '2025-01-31T12:00:00Z' },
      { traceparent },
    );
    const wire = Object.fromEntries(
      Object.entries(toEventHeaders(event.metadata)).map(([name, value]) => [name, Buffer.from(value)]),
    );
    expect(Object.keys(wire).sort()).toEqual(
      [EVENT_HEADERS.eventId, EVENT_HEADERS.eventType, EVENT_HEADERS.eventVersion, EVENT_HEADERS.traceparent].sort(),
    );
    const headers = parseEventHeaders(wire);
    expect(headers).toEqual({
      eventId: event.metadata.eventId,
      eventType: 'InventoryRejected',
      eventVersion: '1',
      traceparent,
    });
    const parsed = parseEvent(headers.eventType, headers.eventVersion, JSON.parse(JSON.stringify(event.payload)));
    expect(parsed).toEqual({ type: 'InventoryRejected', version: 1, payload: event.payload });
  });

  it('names every missing or malformed header', () => {
    let error: unknown;
    try {
      parseEventHeaders({ [EVENT_HEADERS.eventId]: 'not-a-uuid' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EventValidationError);
    expect((error as EventValidationError).fields).toEqual([
      'headers.event-id',
      'headers.event-type',
      'headers.event-version',
    ]);
  });

  it('drops a malformed traceparent instead of rejecting the event', () => {
    const headers = parseEventHeaders({
      [EVENT_HEADERS.eventId]: orderId,
      [EVENT_HEADERS.eventType]: 'OrderPlaced',
      [EVENT_HEADERS.eventVersion]: '1',
      [EVENT_HEADERS.traceparent]: 'garbage',
    });
    expect(headers.traceparent).toBeUndefined();
  });
});
