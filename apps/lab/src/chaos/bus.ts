// The lab's two event topics as evidence: where they end when a run starts, and what was written to them since.
import { EVENT_HEADERS, EVENT_TOPICS } from '@faultline/contracts';
import { headersToStrings, readTopics, topicEnds, type TopicPositions, type TopicRecord } from '@faultline/messaging';
import type { BusMessage } from './evidence';

export const busStart = (brokers: string[]): Promise<TopicPositions> => topicEnds(brokers, EVENT_TOPICS);

/** orders.events and inventory.events from `from` (a run's start), as messages with their event headers. */
export async function readBus(brokers: string[], from: TopicPositions): Promise<BusMessage[]> {
  return (await readTopics(brokers, EVENT_TOPICS, from)).map(busMessageOf);
}

/** One record of an event topic as evidence, whoever read it (kafkajs here, a console consumer on kind). */
export function busMessageOf(r: TopicRecord): BusMessage {
  const h = headersToStrings(r.headers);
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    key: r.key,
    eventId: h[EVENT_HEADERS.eventId] ?? null,
    type: h[EVENT_HEADERS.eventType] ?? null,
    traceparent: h[EVENT_HEADERS.traceparent] ?? null,
    timestamp: r.timestamp,
  };
}
