import type { Kafka, Producer } from 'kafkajs';
import { EVENT_HEADERS, type EventEnvelope } from '@faultline/contracts';
import type { OutboxRecord } from '@faultline/outbox';
import {
  ATTR_ORDER_ID,
  contextFromTraceparent,
  currentTraceparent,
  SpanKind,
  SpanStatusCode,
  withoutInstrumentation,
} from '@faultline/tracing';
import { context, trace, type Span } from '@opentelemetry/api';
import { buildEventMessage, type BuildMessageOptions, type EventMessage } from './event-message';

export interface EventProducer {
  connect(): Promise<void>;
  /** Resolves once Kafka acknowledged every message (acks=all); rejects if any was not. Returns what was sent. */
  publish(events: readonly (EventEnvelope | OutboxRecord)[]): Promise<EventMessage[]>;
  /** Sends already-built messages (DLQ writes, replays) with the same guarantees. */
  send(messages: readonly Omit<EventMessage, 'eventId' | 'type'>[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface EventProducerOptions extends BuildMessageOptions {
  /**
   * How many times a send is retried (kafkajs backoff, capped at 5 s each) before it fails. kafkajs's idempotent
   * default is "forever"; bounded, a long outage surfaces as an error the caller handles (the relay restarts from its
   * slot, which is safe because nothing was acknowledged). ~10 retries ≈ 40 s: longer than a broker restart.
   */
  retries?: number;
}

/**
 * An idempotent producer (no duplicates from its own retries within a session) with acks=all. Ordering per key holds
 * because kafkajs pins max one request in flight for idempotent producers.
 */
export function createEventProducer(kafka: Kafka, options: EventProducerOptions = {}): EventProducer {
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: options.retries ?? 10, initialRetryTime: 200, maxRetryTime: 5000 },
  });
  const send = async (messages: readonly Omit<EventMessage, 'eventId' | 'type'>[]) => {
    if (messages.length === 0) return;
    const byTopic = new Map<
      string,
      Array<{ topic: string; key: string; value: string; headers: Record<string, string> }>
    >();
    for (const message of messages) {
      const list = byTopic.get(message.topic) ?? [];
      list.push({ topic: message.topic, key: message.key, value: message.value, headers: { ...message.headers } });
      byTopic.set(message.topic, list);
    }
    const spans = [...byTopic.values()].flat().map((message) => startProducerSpan(message.topic, message));
    try {
      await withoutInstrumentation(() =>
        producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, topicMessages]) => ({
            topic,
            messages: topicMessages.map(({ key, value, headers }) => ({ key, value, headers })),
          })),
        }),
      );
    } catch (error) {
      for (const span of spans) span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      for (const span of spans) span.end();
    }
  };
  return {
    connect: () => producer.connect(),
    publish: async (events) => {
      const messages = events.map((event) => buildEventMessage(event, options));
      await send(messages);
      return messages;
    },
    send,
    disconnect: () => producer.disconnect(),
  };
}

/**
 * One PRODUCER span per message, child of the trace the message already carries (an outbox row's
 * `tracingspancontext`: the span that wrote the row) or else of the caller's context; the message's `traceparent`
 * header is then rewritten to name this span, so the consumer's span is its child: one order, one trace, across
 * the outbox and every Kafka hop (docs/decisions/trace-through-the-outbox.md). Without tracing (the lab CLI) the
 * header is left as it was.
 */
function startProducerSpan(topic: string, message: { key: string; headers: Record<string, string> }): Span {
  const carried = message.headers[EVENT_HEADERS.traceparent];
  const parent = carried ? contextFromTraceparent(carried) : context.active();
  const span = trace.getTracer('@faultline/messaging').startSpan(
    `${topic} publish`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': topic,
        'messaging.kafka.message.key': message.key,
        'messaging.message.id': message.headers[EVENT_HEADERS.eventId] ?? '',
        'event.type': message.headers[EVENT_HEADERS.eventType] ?? '',
        // Every event is keyed by its order (docs/architecture.md, "Saga, outbox and inbox").
        [ATTR_ORDER_ID]: message.key,
      },
    },
    parent,
  );
  const traceparent = currentTraceparent(trace.setSpan(parent, span));
  if (traceparent) message.headers[EVENT_HEADERS.traceparent] = traceparent;
  return span;
}
