// Bounded reads of whole topics, for tools and verdicts (never for services): the messages between given positions
// (or the start) and the high watermarks seen when the read begins, never waiting for more.
import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { createKafka } from './kafka-client';

/** Per topic, per partition: an offset (as Kafka writes it, a decimal string). */
export type TopicPositions = Record<string, Record<number, string>>;

export interface TopicRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, unknown> | undefined;
  /** Epoch ms the broker stamped (CreateTime unless the topic says LogAppendTime). */
  timestamp: number;
}

export interface TopicReadOptions {
  /** Bound on the whole read; a topic that cannot be read in this time is an error, not a hang. */
  timeoutMs?: number;
}

/** Where each partition of `topics` ends now: read from here later to get only what was written after this moment. */
export async function topicEnds(brokers: string[], topics: readonly string[]): Promise<TopicPositions> {
  const admin = createKafka({ clientId: 'lab-topic-ends', brokers, connectionTimeoutMs: 3000 }).admin();
  await admin.connect();
  try {
    const ends: TopicPositions = {};
    for (const topic of topics)
      ends[topic] = Object.fromEntries((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
    return ends;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Every message of `topics` from `from` (a partition missing there: from its low watermark) up to the high
 * watermarks seen at the start, in offset order per partition.
 */
export async function readTopics(
  brokers: string[],
  topics: readonly string[],
  from: TopicPositions = {},
  options: TopicReadOptions = {},
): Promise<TopicRecord[]> {
  const kafka = createKafka({ clientId: 'lab-topic-read', brokers, connectionTimeoutMs: 3000 });
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `lab-topic-read-${randomUUID()}`;
  try {
    // What to read: per partition, [start, high) when it is not empty.
    const pending = new Map<string, { start: bigint; high: bigint }>();
    for (const topic of topics) {
      for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
        const given = from[topic]?.[partition];
        const start = given === undefined ? BigInt(low) : BigInt(given) > BigInt(low) ? BigInt(given) : BigInt(low);
        if (BigInt(high) > start) pending.set(`${topic}:${partition}`, { start, high: BigInt(high) });
      }
    }
    if (pending.size === 0) return [];
    const records: TopicRecord[] = [];
    const consumer = kafka.consumer({ groupId, retry: { retries: 3 } });
    await consumer.connect();
    try {
      await new Promise<void>((resolve, reject) => {
        const timeoutMs = options.timeoutMs ?? 30000;
        const timer = setTimeout(
          () => reject(new Error(`reading ${topics.join(', ')} took more than ${timeoutMs} ms`)),
          timeoutMs,
        );
        const take = (topic: string, partition: number, message: KafkaMessage) => {
          const slot = `${topic}:${partition}`;
          const range = pending.get(slot);
          const offset = BigInt(message.offset);
          if (!range || offset < range.start || offset >= range.high) return;
          records.push({
            topic,
            partition,
            offset: message.offset,
            key: message.key?.toString('utf8') ?? null,
            value: message.value?.toString('utf8') ?? null,
            headers: message.headers,
            timestamp: Number(message.timestamp),
          });
          if (offset + 1n >= range.high) pending.delete(slot);
          if (pending.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        };
        void consumer
          .subscribe({ topics: [...topics], fromBeginning: true })
          .then(async () => {
            await consumer.run({
              autoCommit: false,
              eachMessage: async ({ topic, partition, message }) => take(topic, partition, message),
            });
            // Straight to each partition's start: a long topic is not read from its beginning.
            for (const [slot, range] of pending) {
              const at = slot.lastIndexOf(':');
              consumer.seek({
                topic: slot.slice(0, at),
                partition: Number(slot.slice(at + 1)),
                offset: range.start.toString(),
              });
            }
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
    const order = (a: TopicRecord, b: TopicRecord) =>
      a.topic.localeCompare(b.topic) || a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1);
    return records.sort(order);
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

/** The offsets a consumer group has committed on a topic, per partition (the next offset it will read). */
export async function groupCommitted(
  brokers: string[],
  groupId: string,
  topic: string,
): Promise<Record<number, string>> {
  const kafka = createKafka({ clientId: 'lab-group-offsets', brokers, connectionTimeoutMs: 3000 });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [answer] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Object.fromEntries((answer?.partitions ?? []).map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}
