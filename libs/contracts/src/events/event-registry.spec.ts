import {
  EVENT_REGISTRY,
  EVENT_TYPES,
  EventValidationError,
  INVENTORY_EVENTS_TOPIC,
  ORDERS_EVENTS_TOPIC,
  dlqTopic,
  eventKey,
  eventTopic,
  parseEvent,
  type EventType,
} from './index';

const orderId = '0b9d6f52-3c1e-4a8f-9d2b-6f1e2a3b4c5d';
const at = '2025-01-31T12:00:00.000Z';
const items = [{ sku: 'SKU-0001', quantity: 2 }];

const valid: Record<EventType, Record<string, unknown>> = {
  OrderPlaced: { orderId, customerId: 'alice', items, placedAt: at },
  OrderConfirmed: { orderId, customerId: 'alice', confirmedAt: at },
  OrderRejected: { orderId, customerId: 'alice', reason: 'INSUFFICIENT_STOCK', rejectedAt: at },
  InventoryReserved: { orderId, items, reservedAt: at },
  InventoryRejected: { orderId, reason: 'UNKNOWN_SKU', skus: ['SKU-9999'], rejectedAt: at },
};

function validationError(fn: () => unknown): EventValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EventValidationError);
    return error as EventValidationError;
  }
  throw new Error('expected an EventValidationError');
}

describe('event registry', () => {
  it('registers exactly the five v1 events on their topics', () => {
    expect([...EVENT_TYPES].sort()).toEqual(
      ['InventoryRejected', 'InventoryReserved', 'OrderConfirmed', 'OrderPlaced', 'OrderRejected'].sort(),
    );
    expect(eventTopic('OrderPlaced')).toBe(ORDERS_EVENTS_TOPIC);
    expect(eventTopic('OrderConfirmed')).toBe('orders.events');
    expect(eventTopic('OrderRejected')).toBe('orders.events');
    expect(eventTopic('InventoryReserved')).toBe(INVENTORY_EVENTS_TOPIC);
    expect(eventTopic('InventoryRejected')).toBe('inventory.events');
    expect(dlqTopic(ORDERS_EVENTS_TOPIC)).toBe('orders.events.dlq');
    for (const type of EVENT_TYPES) expect(EVENT_REGISTRY[type].currentVersion).toBe(1);
  });

  it.each(EVENT_TYPES)('%s v1 accepts a valid payload and keys it by order id', (type) => {
    const event = parseEvent(type, 1, valid[type]);
    expect(event).toEqual({ type, version: 1, payload: valid[type] });
    expect(eventKey(event)).toBe(orderId);
  });

  it('accepts the version as the header string and drops unknown payload fields (tolerant reader)', () => {
    const event = parseEvent('OrderConfirmed', '1', { ...valid.OrderConfirmed, addedLater: true });
    expect(event.version).toBe(1);
    expect(event.payload).toEqual(valid.OrderConfirmed);
  });

  it('narrows the payload type on the event type', () => {
    const event = parseEvent('OrderPlaced', 1, valid.OrderPlaced);
    // Type-level check (compiled by `npm run typecheck`): items exists only on OrderPlaced and InventoryReserved.
    expect(event.payload.items[0]?.quantity).toBe(2);
  });

  const base = valid;
  const invalid: Array<[EventType, string, Record<string, unknown>, string]> = [
    ['OrderPlaced', 'orderId not a uuid', { ...base.OrderPlaced, orderId: 'order-1' }, 'payload.orderId'],
    ['OrderPlaced', 'customerId missing', { ...base.OrderPlaced, customerId: undefined }, 'payload.customerId'],
    ['OrderPlaced', 'customerId empty', { ...base.OrderPlaced, customerId: '' }, 'payload.customerId'],
    ['OrderPlaced', 'no items', { ...base.OrderPlaced, items: [] }, 'payload.items'],
    [
      'OrderPlaced',
      '21 items',
      { ...base.OrderPlaced, items: Array.from({ length: 21 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1 })) },
      'payload.items',
    ],
    [
      'OrderPlaced',
      'quantity 0',
      { ...base.OrderPlaced, items: [{ sku: 'SKU-0001', quantity: 0 }] },
      'payload.items.0.quantity',
    ],
    [
      'OrderPlaced',
      'quantity 101',
      { ...base.OrderPlaced, items: [{ sku: 'SKU-0001', quantity: 101 }] },
      'payload.items.0.quantity',
    ],
    [
      'OrderPlaced',
      'quantity 1.5',
      { ...base.OrderPlaced, items: [{ sku: 'SKU-0001', quantity: 1.5 }] },
      'payload.items.0.quantity',
    ],
    [
      'OrderPlaced',
      'quantity as string',
      { ...base.OrderPlaced, items: [{ sku: 'SKU-0001', quantity: '1' }] },
      'payload.items.0.quantity',
    ],
    ['OrderPlaced', 'sku empty', { ...base.OrderPlaced, items: [{ sku: '', quantity: 1 }] }, 'payload.items.0.sku'],
    ['OrderPlaced', 'placedAt not a timestamp', { ...base.OrderPlaced, placedAt: 'yesterday' }, 'payload.placedAt'],
    ['OrderConfirmed', 'confirmedAt missing', { orderId, customerId: 'alice' }, 'payload.confirmedAt'],
    ['OrderConfirmed', 'orderId a number', { ...base.OrderConfirmed, orderId: 42 }, 'payload.orderId'],
    ['OrderRejected', 'reason empty', { ...base.OrderRejected, reason: '' }, 'payload.reason'],
    [
      'OrderRejected',
      'rejectedAt a date-only string',
      { ...base.OrderRejected, rejectedAt: '2025-01-31' },
      'payload.rejectedAt',
    ],
    ['InventoryReserved', 'items missing', { orderId, reservedAt: at }, 'payload.items'],
    ['InventoryReserved', 'reservedAt missing', { orderId, items }, 'payload.reservedAt'],
    ['InventoryRejected', 'unknown reason', { ...base.InventoryRejected, reason: 'SOLD_OUT' }, 'payload.reason'],
    ['InventoryRejected', 'empty skus list', { ...base.InventoryRejected, skus: [] }, 'payload.skus'],
    ['InventoryRejected', 'sku not a string', { ...base.InventoryRejected, skus: [7] }, 'payload.skus.0'],
  ];

  it.each(invalid)('%s v1 rejects %s, naming %s', (type, _why, payload, field) => {
    const error = validationError(() => parseEvent(type, 1, payload));
    expect(error.eventType).toBe(type);
    expect(error.eventVersion).toBe('1');
    expect(error.fields).toContain(field);
    expect(error.message).toContain(field);
  });

  it.each(EVENT_TYPES)('%s v1 rejects a payload that is not an object', (type) => {
    for (const payload of [null, undefined, 'x', 42, []]) {
      expect(validationError(() => parseEvent(type, 1, payload)).fields).toEqual(['payload']);
    }
  });

  it('lists every offending field at once', () => {
    const error = validationError(() =>
      parseEvent('OrderPlaced', 1, { orderId: 'nope', items: [{ sku: 'SKU-0001', quantity: 0 }] }),
    );
    expect(error.fields).toEqual(
      expect.arrayContaining(['payload.orderId', 'payload.customerId', 'payload.items.0.quantity', 'payload.placedAt']),
    );
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name: 'EventValidationError', eventType: 'OrderPlaced' });
  });

  it.each(['OrderShipped', '', 'constructor', '__proto__', 'toString'])('rejects unknown type %j', (type) => {
    const error = validationError(() => parseEvent(type, 1, valid.OrderPlaced));
    expect(error.fields).toEqual(['type']);
  });

  it.each<[number | string]>([[0], [2], [-1], [1.5], ['2'], ['01'], ['v1'], [''], [Number.NaN]])(
    'rejects unknown or malformed version %j',
    (version) => {
      const error = validationError(() => parseEvent('OrderPlaced', version, valid.OrderPlaced));
      expect(error.fields).toEqual(['version']);
      expect(error.eventType).toBe('OrderPlaced');
    },
  );
});
