import { createEvent, EVENT_HEADERS } from '@faultline/contracts';
import type { OutboxRecord } from '@faultline/outbox';
import { buildDlqMessage, parseDlqError } from './dead-letter';
import { buildEventMessage, headersToStrings } from './event-message';

const orderId = '0b9d6f52-3c1e-4a8f-9d2b-6f1e2a3b4c5d';
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const payload = {
  orderId,
  customerId: 'alice',
  items: [{ sku: 'SKU-0001', quantity: 2 }],
  placedAt: '2025-01-31T12:00:00.000Z',
};

describe('buildEventMessage', () => {
  it('builds the same message from an envelope and from its outbox row (relay and dual-write agree)', () => {
    const event = createEvent('OrderPlaced', payload, { traceparent });
    const row: OutboxRecord = {
      id: event.metadata.eventId,
      aggregatetype: 'order',
      aggregateid: orderId,
      type: 'OrderPlaced',
      version: 1,
      payload: JSON.parse(JSON.stringify(payload)),
      tracingspancontext: traceparent,
    };
    const fromEnvelope = buildEventMessage(event);
    expect(fromEnvelope).toEqual({
      topic: 'orders.events',
      key: orderId,
      value: JSON.stringify(payload),
      headers: { 'event-id': event.metadata.eventId, 'event-type': 'OrderPlaced', 'event-version': '1', traceparent },
      eventId: event.metadata.eventId,
      type: 'OrderPlaced',
    });
    expect(buildEventMessage(row)).toEqual(fromEnvelope);
  });

  it('omits traceparent when the row has none, and routes an unknown type to the fallback topic only', () => {
    const row: OutboxRecord = {
      id: orderId,
      aggregatetype: 'order',
      aggregateid: orderId,
      type: 'OrderShipped',
      version: 1,
      payload: {},
      tracingspancontext: null,
    };
    expect(() => buildEventMessage(row)).toThrow(/unknown event type/);
    const message = buildEventMessage(row, { fallbackTopic: 'orders.events' });
    expect(message.topic).toBe('orders.events');
    expect(Object.keys(message.headers).sort()).toEqual(['event-id', 'event-type', 'event-version']);
  });

  it('carries the commit time the relay saw as committed-at, and nothing when there is none', () => {
    const row: OutboxRecord = {
      id: orderId,
      aggregatetype: 'order',
      aggregateid: orderId,
      type: 'OrderPlaced',
      version: 1,
      payload: { orderId },
      tracingspancontext: null,
    };
    expect(buildEventMessage({ ...row, committedAt: 1_700_000_000_123 }).headers['committed-at']).toBe('1700000000123');
    expect(buildEventMessage(row).headers).not.toHaveProperty('committed-at');
  });

  it('sends every row to the one topic it is given, known type or not, and changes nothing else', () => {
    const known: OutboxRecord = {
      id: orderId,
      aggregatetype: 'order',
      aggregateid: orderId,
      type: 'OrderPlaced',
      version: 1,
      payload: { orderId },
      tracingspancontext: null,
    };
    const unknown: OutboxRecord = { ...known, type: 'OrderShipped' };
    expect(buildEventMessage(known, { topic: 'bench.relay', fallbackTopic: 'orders.events' })).toEqual({
      ...buildEventMessage(known),
      topic: 'bench.relay',
    });
    expect(buildEventMessage(unknown, { topic: 'bench.relay' }).topic).toBe('bench.relay');
  });
});

describe('headers and dead letters', () => {
  it('turns kafkajs header Buffers into strings, last value wins, absent dropped', () => {
    expect(
      headersToStrings({ a: Buffer.from('x'), b: [Buffer.from('1'), Buffer.from('2')], c: undefined, d: 'plain' }),
    ).toEqual({
      a: 'x',
      b: '2',
      d: 'plain',
    });
  });

  it('keeps key, value and headers and adds a parseable dlq-error', () => {
    const original = {
      key: orderId,
      value: '{"bad"',
      headers: { 'event-id': orderId, [EVENT_HEADERS.dlqError]: 'old' },
    };
    const dlq = buildDlqMessage(original, {
      message: 'boom',
      kind: 'handler',
      attempts: 5,
      consumer: 'c',
      topic: 'orders.events',
      partition: 0,
      offset: '42',
      failedAt: '2025-01-31T12:00:00.000Z',
    });
    expect(dlq.topic).toBe('orders.events.dlq');
    expect(dlq.key).toBe(orderId);
    expect(dlq.value).toBe('{"bad"');
    expect(dlq.headers['event-id']).toBe(orderId);
    expect(parseDlqError(dlq.headers[EVENT_HEADERS.dlqError])).toMatchObject({
      message: 'boom',
      attempts: 5,
      topic: 'orders.events',
      offset: '42',
    });
    expect(parseDlqError('plain text')).toEqual({ message: 'plain text' });
    expect(parseDlqError(undefined).message).toMatch(/no dlq-error/);
  });
});
