// `lab dlq list` and `lab dlq replay`: read dead-letter topics with a bounded read (up to the high watermarks seen at
// the start, never waiting for more) and put a fixed message back on its original topic.
import { EVENT_HEADERS } from '@faultline/contracts';
import { parseDlqError, type DlqError } from './dead-letter';
import { headersToStrings } from './event-message';
import { createKafka } from './kafka-client';
import { readTopics, type TopicRecord } from './topic-reader';

export interface DlqEntry {
  /** `<dlqTopic>:<partition>:<offset>`: what `lab dlq replay` takes. */
  id: string;
  dlqTopic: string;
  originalTopic: string;
  eventId: string | null;
  type: string | null;
  error: Partial<DlqError> & { message: string };
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  timestamp: string;
}

export interface DlqReadOptions {
  /** Bound on the whole read; a DLQ that cannot be read in this time is an error, not a hang. */
  timeoutMs?: number;
}

/** Every message on the given dead-letter topics, oldest first per partition. */
export async function listDlq(
  brokers: string[],
  dlqTopics: readonly string[],
  options: DlqReadOptions = {},
): Promise<DlqEntry[]> {
  const records = await readTopics(brokers, dlqTopics, {}, options);
  return records
    .map(dlqEntryOf)
    .sort((a, b) => (a.dlqTopic === b.dlqTopic ? compareIds(a.id, b.id) : a.dlqTopic.localeCompare(b.dlqTopic)));
}

export interface ReplayResult {
  id: string;
  topic: string;
  /** Where the replayed message landed on its original topic. */
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/**
 * Puts one dead-lettered message back on its original topic: same key and headers (minus `dlq-error`, plus
 * `dlq-replay-of`), and the corrected payload when given. The event id stays: consumers' inboxes still dedupe it.
 */
export async function replayDlq(
  brokers: string[],
  id: string,
  options: { payload?: unknown } & DlqReadOptions = {},
): Promise<ReplayResult> {
  const { topic } = parseDlqId(id);
  const entry = (await listDlq(brokers, [topic], options)).find((candidate) => candidate.id === id);
  if (!entry) throw new Error(`no message ${id} on ${topic}`);
  const { headers, value } = replayMessage(entry, options.payload);
  const kafka = createKafka({ clientId: 'lab-dlq-replay', brokers, connectionTimeoutMs: 3000 });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 5 } });
  await producer.connect();
  let landed: { partition: number; baseOffset?: string } | undefined;
  try {
    [landed] = await producer.send({
      topic: entry.originalTopic,
      acks: -1,
      messages: [{ key: entry.key, value, headers }],
    });
  } finally {
    await producer.disconnect();
  }
  return {
    id,
    topic: entry.originalTopic,
    partition: landed?.partition ?? -1,
    offset: landed?.baseOffset ?? '-1',
    key: entry.key,
    value,
    headers,
  };
}

/**
 * What a replay puts back on the original topic, whoever sends it (kafkajs here, a console producer on kind): the
 * entry's key and headers, marked with the dead letter it replays and without the error, and its value or `payload`.
 */
export function replayMessage(
  entry: DlqEntry,
  payload?: unknown,
): { key: string | null; value: string | null; headers: Record<string, string> } {
  const headers: Record<string, string> = { ...entry.headers, 'dlq-replay-of': entry.id };
  delete headers[EVENT_HEADERS.dlqError];
  return { key: entry.key, value: payload === undefined ? entry.value : JSON.stringify(payload), headers };
}

export function parseDlqId(id: string): { topic: string; partition: number; offset: string } {
  const match = /^(.+):(\d+):(\d+)$/.exec(id);
  if (!match) throw new Error(`not a DLQ message id (expected <topic>:<partition>:<offset>): ${id}`);
  return { topic: match[1], partition: Number(match[2]), offset: match[3] };
}

function compareIds(a: string, b: string): number {
  const x = parseDlqId(a);
  const y = parseDlqId(b);
  return (
    x.partition - y.partition ||
    (BigInt(x.offset) < BigInt(y.offset) ? -1 : BigInt(x.offset) > BigInt(y.offset) ? 1 : 0)
  );
}

/** One record of a dead-letter topic as an entry, whoever read it (kafkajs here, a console consumer on kind). */
export function dlqEntryOf({ topic, partition, offset, key, value, headers: raw, timestamp }: TopicRecord): DlqEntry {
  const headers = headersToStrings(raw);
  const error = parseDlqError(headers[EVENT_HEADERS.dlqError]);
  return {
    id: `${topic}:${partition}:${offset}`,
    dlqTopic: topic,
    originalTopic: error.topic ?? topic.replace(/\.dlq$/, ''),
    eventId: headers[EVENT_HEADERS.eventId] ?? null,
    type: headers[EVENT_HEADERS.eventType] ?? null,
    error,
    key,
    value,
    headers,
    timestamp: new Date(timestamp).toISOString(),
  };
}
