import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Kafka } from 'kafkajs';
import type { OutboxRecord } from '@faultline/outbox';
import { createEventProducer } from './event-producer';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const contextManager = new AsyncLocalStorageContextManager().enable();

beforeAll(() => {
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
});
afterAll(() => {
  trace.disable();
  propagation.disable();
  context.disable();
});

type Sent = { topicMessages: { topic: string; messages: { key: string; headers: Record<string, string> }[] }[] };
function fakeKafka(sent: Sent[], fail = false): Kafka {
  const producer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    sendBatch: async (batch: Sent) => {
      sent.push(batch);
      if (fail) throw new Error('broker down');
    },
  };
  return { producer: () => producer } as unknown as Kafka;
}

const row = (id: string, orderId: string, traceparent: string | null): OutboxRecord => ({
  id,
  aggregatetype: 'order',
  aggregateid: orderId,
  type: 'OrderPlaced',
  version: 1,
  payload: { orderId },
  tracingspancontext: traceparent,
});
const TRACE_A = '00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-1111111111111111-01';
const TRACE_B = '00-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-2222222222222222-01';

describe('event producer tracing', () => {
  beforeEach(() => exporter.reset());

  it('one batch, two outbox rows of two traces: each message gets its own producer span, child of its row', async () => {
    const sent: Sent[] = [];
    const producer = createEventProducer(fakeKafka(sent));
    const e1 = '11111111-1111-4111-8111-111111111111';
    const e2 = '22222222-2222-4222-8222-222222222222';
    await producer.publish([row(e1, 'order-a', TRACE_A), row(e2, 'order-b', TRACE_B)]);

    await provider.forceFlush(); // the processor exports asynchronously
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(2);
    for (const [eventId, traceparent] of [
      [e1, TRACE_A],
      [e2, TRACE_B],
    ] as const) {
      const span = spans.find((s) => s.attributes['messaging.message.id'] === eventId);
      const [, traceId, parentId] = traceparent.split('-');
      expect(span?.kind).toBe(SpanKind.PRODUCER);
      expect(span?.spanContext().traceId).toBe(traceId);
      expect(span?.parentSpanContext?.spanId).toBe(parentId);
      // The header the consumer sees names the producer span, not the row's writer.
      const message = sent[0].topicMessages[0].messages.find((m) => m.headers['event-id'] === eventId);
      expect(message?.headers['traceparent']).toBe(`00-${traceId}-${span?.spanContext().spanId}-01`);
    }
  });

  it('a row without trace context is published in the caller context, and a failed send marks the spans', async () => {
    const sent: Sent[] = [];
    const producer = createEventProducer(fakeKafka(sent, true));
    await expect(producer.publish([row('33333333-3333-4333-8333-333333333333', 'order-c', null)])).rejects.toThrow(
      'broker down',
    );
    await provider.forceFlush();
    const [span] = exporter.getFinishedSpans();
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.status.code).toBe(2);
    expect(sent[0].topicMessages[0].messages[0].headers['traceparent']).toBe(
      `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`,
    );
  });
});
