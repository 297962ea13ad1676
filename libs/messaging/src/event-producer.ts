import type { Kafka, Producer } from 'kafkajs';
import type { EventEnvelope } from '@faultline/contracts';
import type { OutboxRecord } from '@faultline/outbox';
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
    const byTopic = new Map<string, Array<{ key: string; value: string; headers: Record<string, string> }>>();
    for (const message of messages) {
      const list = byTopic.get(message.topic) ?? [];
      list.push({ key: message.key, value: message.value, headers: message.headers });
      byTopic.set(message.topic, list);
    }
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, topicMessages]) => ({ topic, messages: topicMessages })),
    });
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
