// An idempotent-consumer runner (docs/architecture.md, "Saga, outbox and inbox"): validated events in, one handler
// call per event, bounded retries with backoff, then `<topic>.dlq`; offsets are committed only after the effect or
// the DLQ write succeeded, coalesced per partition into one commit request every `commitIntervalMs`.
import { randomUUID } from 'node:crypto';
import type { Consumer, EachMessagePayload, Kafka, Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import {
  EVENT_HEADERS,
  EventValidationError,
  isEventType,
  parseEvent,
  parseEventHeaders,
  type EventHeaders,
  type EventType,
  type ParsedEvent,
} from '@faultline/contracts';
import type { Logger } from '@faultline/observability';
import {
  ATTR_ORDER_ID,
  contextFromTraceparent,
  inSpan,
  setSpanAttributes,
  spanEvent,
  SpanKind,
} from '@faultline/tracing';
import { type BackoffPolicy, fullJitterDelay, isTransientError } from '@faultline/resilience';
import { trace } from '@opentelemetry/api';
import { consumerMetrics, type ConsumerMetrics } from './consumer-metrics';
import { buildDlqMessage, describeFailure, type RawMessage } from './dead-letter';
import { headersToStrings } from './event-message';
import { createKafka } from './kafka-client';

export type HandleOutcome = 'processed' | 'duplicate' | 'ignored';

export interface HandleContext {
  readonly headers: EventHeaders;
  readonly key: string | null;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** 1 on the first delivery attempt within this consumer. */
  readonly attempt: number;
}

export type EventHandler = (event: ParsedEvent, context: HandleContext) => Promise<HandleOutcome>;

export interface EventConsumerOptions {
  brokers: string[];
  clientId: string;
  groupId: string;
  topics: string[];
  /** Event types this consumer handles; others are committed as `ignored` without validating their payload. */
  eventTypes?: readonly EventType[];
  /** Handler attempts before a message is dead-lettered (5: with the default backoff, ~3 s of trying). */
  maxAttempts?: number;
  /**
   * How long a TRANSIENT failure (isTransientError: the database down or restarting, a connection cut, a deadlock) is
   * retried before the message is dead-lettered after all: such attempts do not count against maxAttempts, since the
   * message is not at fault. Default 60 s; the partition waits meanwhile, as it must to keep order.
   */
  transientRetryMs?: number;
  /** Between a failed handler's attempts; HANDLER_RETRY_BACKOFF by default. */
  backoff?: BackoffPolicy;
  /** The name in metrics, logs and the DLQ record; defaults to the group id. */
  name?: string;
  handle: EventHandler;
  logger: Logger;
  registry: Registry;
  /** Bound on waiting for the group join in start(). */
  joinTimeoutMs?: number;
  /** Test seam: the random source of the jitter. */
  random?: () => number;
  /** Start from the beginning of the topics when the group has no committed offsets (default true: lose nothing). */
  fromBeginning?: boolean;
  /**
   * Partitions handled at once (default 1). Order within a partition (one order's events) is kept either way; above
   * 1, events of different orders are handled concurrently, so the handler must be safe under concurrency.
   */
  partitionsConsumedConcurrently?: number;
  /**
   * Where the consumer keeps how current its effects are: per partition, the `committed-at` of the last message it
   * handled (the relay's commit time of the event, which only grows within a partition), so a read model can say
   * "everything committed up to T is applied" (the minimum over the topic's partitions). Saved every `intervalMs`
   * (default 200), only after the handler's effect or its DLQ write; a mark only ever moves forward.
   */
  appliedUntil?: { save: (marks: readonly AppliedMark[]) => Promise<void>; intervalMs?: number };
  /**
   * How long a handled message's offset may wait to be committed (default 250 ms): the offsets handled meanwhile go
   * in one request, not one each. The price: a consumer killed in that window gets those messages again, which its
   * inbox absorbs (a duplicate, never a loss). 0 commits each message as it is handled.
   */
  commitIntervalMs?: number;
}

/**
 * 100 ms doubling to 5 s, full jitter: a handler's transient failure (a lock, a restarting database) usually clears
 * within that.
 */
export const HANDLER_RETRY_BACKOFF: BackoffPolicy = Object.freeze({ baseMs: 100, capMs: 5000 });

/** Every message of `topic`'s `partition` committed at or before `until` has been handled. */
export interface AppliedMark {
  topic: string;
  partition: number;
  /** How many partitions the topic has: a read model is current only as far as its least current partition. */
  partitions: number;
  until: Date;
}

class Stopped extends Error {}

export class EventConsumer {
  private readonly kafka: Kafka;
  private consumer?: Consumer;
  private producer?: Producer;
  private readonly metrics: ConsumerMetrics;
  private readonly name: string;
  private readonly maxAttempts: number;
  private stopping = false;
  /** Retry back-offs in progress (one per partition handled at once): stop() cuts them short. */
  private readonly sleepers = new Set<() => void>();
  private restartTimer?: NodeJS.Timeout;
  private restarts = 0;
  /**
   * appliedUntil: per `topic/partition`, the newest handled commit time not saved yet, and the topics' partition
   * counts.
   */
  private readonly unsavedMarks = new Map<string, { topic: string; partition: number; until: number }>();
  private readonly partitionCounts = new Map<string, number>();
  private markTimer?: NodeJS.Timeout;
  /** Per `topic/partition`, the next offset to commit (its last handled message + 1), not sent to Kafka yet. */
  private readonly uncommitted = new Map<
    string,
    { topic: string; partition: number; offset: string; failures?: number }
  >();
  private commitTimer?: NodeJS.Timeout;
  private committing: Promise<void> = Promise.resolve();

  constructor(private readonly options: EventConsumerOptions) {
    this.kafka = createKafka({ clientId: options.clientId, brokers: options.brokers });
    this.metrics = consumerMetrics(options.registry);
    this.name = options.name ?? options.groupId;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  }

  /** Connects, subscribes and resolves once this member joined the group (so tests and readiness can rely on it). */
  async start(): Promise<void> {
    this.stopping = false;
    this.producer ??= this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5000 },
    });
    await this.producer.connect();
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      // A consumer that dies (a killed pod) keeps its partitions until the broker gives up on it. kafkajs's 30 s
      // default stalls half the pipeline for half a minute after every crash experiment; 10 s still tolerates a
      // loaded 2-core machine (heartbeats every 3 s, three missed before the group moves on).
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
      // A broker outage must not end the consumer: kafkajs restarts after a retriable crash (restartOnFailure), and a
      // crash it would not restart from is handled in onCrash below.
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5000, restartOnFailure: async () => true },
    });
    this.consumer = consumer;
    const joined = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`consumer ${this.name}: no group join within ${this.options.joinTimeoutMs ?? 60000} ms`)),
        this.options.joinTimeoutMs ?? 60000,
      );
      consumer.on(consumer.events.GROUP_JOIN, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload as { error: Error; restart: boolean };
      this.options.logger.warn({ consumer: this.name, err: error, restart }, 'consumer crashed');
      if (!restart && !this.stopping) this.scheduleRestart();
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: Math.max(1, this.options.partitionsConsumedConcurrently ?? 1),
      eachMessage: (payload) => this.onMessage(payload),
    });
    await joined;
    if (this.options.appliedUntil) this.scheduleMarks();
    this.options.logger.info(
      { consumer: this.name, topics: this.options.topics, groupId: this.options.groupId },
      'consumer joined its group',
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.markTimer);
    for (const wake of this.sleepers) wake();
    // What was handled is committed before leaving the group, so the next member does not get it again.
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    await this.flushCommits().catch(() => undefined);
    await this.consumer?.disconnect().catch(() => undefined);
    await this.saveMarks().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    this.consumer = undefined;
    this.producer = undefined;
  }

  /** kafkajs gave up (a non-retriable crash): start over with a fresh client after a backoff, forever. */
  private scheduleRestart(): void {
    this.restarts += 1;
    const delay = Math.max(
      1000,
      fullJitterDelay(this.restarts - 1, { baseMs: 1000, capMs: 30000 }, this.options.random),
    );
    this.restartTimer = setTimeout(() => {
      void (async () => {
        await this.consumer?.disconnect().catch(() => undefined);
        try {
          await this.start();
          this.restarts = 0;
        } catch (error) {
          this.options.logger.error({ consumer: this.name, err: error }, 'consumer restart failed; trying again');
          if (!this.stopping) this.scheduleRestart();
        }
      })();
    }, delay);
  }

  /**
   * Handles one message inside the trace its `traceparent` header names. The kafkajs instrumentation normally has
   * already started that CONSUMER span (child of the producer's span) and made it active; if it has not (tracing
   * not started, or kafkajs loaded in a way the instrumentation missed), this starts one, so the handler's outbox
   * row still continues the order's trace.
   */
  private onMessage(payload: EachMessagePayload): Promise<void> {
    const { topic, partition, message } = payload;
    const stringHeaders = headersToStrings(message.headers);
    const carried = stringHeaders[EVENT_HEADERS.traceparent];
    const attributes = {
      'messaging.message.id': stringHeaders[EVENT_HEADERS.eventId] ?? '',
      'event.type': stringHeaders[EVENT_HEADERS.eventType] ?? '',
      'messaging.consumer.group.name': this.options.groupId,
      'messaging.kafka.offset': Number(message.offset),
      'messaging.destination.partition.id': String(partition),
      ...(message.key ? { [ATTR_ORDER_ID]: message.key.toString('utf8') } : {}),
    };
    const active = trace.getActiveSpan()?.spanContext();
    if (!carried || (active && carried.includes(`-${active.traceId}-`))) {
      setSpanAttributes(attributes);
      return this.handleMessage(payload);
    }
    return inSpan(
      `${topic} process`,
      {
        kind: SpanKind.CONSUMER,
        parent: contextFromTraceparent(carried),
        attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': topic, ...attributes },
      },
      () => this.handleMessage(payload),
    );
  }

  private async handleMessage({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    const raw: RawMessage = {
      key: message.key?.toString('utf8') ?? null,
      value: message.value?.toString('utf8') ?? null,
      headers: headersToStrings(message.headers),
    };
    const at = { topic, partition, offset: message.offset };
    let typeLabel = 'unknown';
    let event: ParsedEvent;
    let headers: EventHeaders;
    try {
      headers = parseEventHeaders(message.headers ?? {});
      typeLabel = isEventType(headers.eventType) ? headers.eventType : 'unknown';
      if (
        isEventType(headers.eventType) &&
        this.options.eventTypes &&
        !this.options.eventTypes.includes(headers.eventType)
      ) {
        this.count(topic, typeLabel, 'ignored');
        await this.commit(topic, partition, message.offset, raw.headers[EVENT_HEADERS.committedAt]);
        return;
      }
      event = parseEvent(headers.eventType, headers.eventVersion, parseJson(raw.value, headers));
    } catch (error) {
      // A malformed message never gets better by retrying: straight to the DLQ.
      await this.deadLetter(raw, at, typeLabel, 'validation', 0, error);
      await this.commit(topic, partition, message.offset, raw.headers[EVENT_HEADERS.committedAt]);
      return;
    }

    const firstFailureAt: { at?: number } = {};
    for (let attempt = 1, tries = 1; ; tries += 1) {
      try {
        const outcome = await this.options.handle(event, { headers, key: raw.key, ...at, attempt: tries });
        if (outcome === 'duplicate') {
          this.metrics.duplicates.inc({ consumer: this.name });
          spanEvent('inbox.duplicate', { 'messaging.message.id': headers.eventId, consumer: this.name });
        }
        setSpanAttributes({ 'consumer.outcome': outcome });
        this.count(topic, typeLabel, outcome);
        break;
      } catch (error) {
        if (this.stopping) throw new Stopped('stopping; the message will be redelivered');
        firstFailureAt.at ??= Date.now();
        const transient =
          isTransientError(error) && Date.now() - firstFailureAt.at < (this.options.transientRetryMs ?? 60_000);
        if (!transient && attempt >= this.maxAttempts) {
          await this.deadLetter(raw, at, typeLabel, 'handler', tries, error);
          break;
        }
        if (!transient) attempt += 1;
        this.count(topic, typeLabel, 'retried');
        spanEvent('handler.retry', {
          attempt: tries,
          transient,
          'exception.message': error instanceof Error ? error.message : String(error),
        });
        this.options.logger.warn(
          { consumer: this.name, ...at, eventId: headers.eventId, attempt: tries, transient, err: error },
          'handler failed; retrying',
        );
        await this.sleep(
          fullJitterDelay(tries - 1, this.options.backoff ?? HANDLER_RETRY_BACKOFF, this.options.random),
        );
        await heartbeat();
      }
    }
    await this.commit(topic, partition, message.offset, raw.headers[EVENT_HEADERS.committedAt]);
  }

  private async deadLetter(
    raw: RawMessage,
    at: { topic: string; partition: number; offset: string },
    type: string,
    kind: 'validation' | 'handler',
    attempts: number,
    error: unknown,
  ): Promise<void> {
    const failure = describeFailure(error);
    const dlq = buildDlqMessage(raw, {
      ...failure,
      kind,
      attempts,
      consumer: this.name,
      ...at,
      failedAt: new Date().toISOString(),
    });
    if (!this.producer) throw new Stopped('no producer');
    // Throws if Kafka did not take it: then the offset is not committed and the message comes back.
    await this.producer.send({
      topic: dlq.topic,
      acks: -1,
      messages: [{ key: dlq.key, value: dlq.value, headers: dlq.headers }],
    });
    this.metrics.dlq.inc({ topic: at.topic });
    spanEvent('message.dead_lettered', { 'dlq.topic': dlq.topic, 'dlq.kind': kind, attempts });
    this.count(at.topic, type, 'dead_lettered');
    this.options.logger.error(
      { consumer: this.name, ...at, dlqTopic: dlq.topic, kind, attempts, error: failure },
      'message dead-lettered',
    );
  }

  private async commit(topic: string, partition: number, offset: string, committedAt?: string): Promise<void> {
    this.uncommitted.set(`${topic}/${partition}`, { topic, partition, offset: (BigInt(offset) + 1n).toString() });
    const interval = this.options.commitIntervalMs ?? 250;
    if (interval <= 0) await this.flushCommits();
    else
      this.commitTimer ??= setTimeout(() => {
        this.commitTimer = undefined;
        void this.flushCommits().catch((error: unknown) =>
          this.options.logger.warn(
            { consumer: this.name, err: error },
            'offset commit failed; the offsets are committed with the next one',
          ),
        );
      }, interval);
    if (!this.options.appliedUntil || committedAt === undefined) return;
    const at = `${topic}/${partition}`;
    const until = Number(committedAt);
    if (Number.isFinite(until) && until > (this.unsavedMarks.get(at)?.until ?? 0))
      this.unsavedMarks.set(at, { topic, partition, until });
  }

  /**
   * One request for every partition's newest handled offset; commits never overlap, so an older offset cannot land
   * after a newer one. Offsets a failed commit carried go back for the next one, unless a newer offset took their
   * place or they failed three times (a partition this member lost in a rebalance): a commit that never lands only
   * means those messages come again, to an inbox that absorbs them.
   */
  private flushCommits(): Promise<void> {
    const flush = async () => {
      if (this.uncommitted.size === 0 || !this.consumer) return;
      const offsets = [...this.uncommitted.values()];
      this.uncommitted.clear();
      try {
        this.metrics.commits.inc({ consumer: this.name });
        await this.consumer.commitOffsets(
          offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
        );
      } catch (error) {
        for (const o of offsets) {
          const key = `${o.topic}/${o.partition}`;
          if (!this.uncommitted.has(key) && (o.failures ?? 0) < 2)
            this.uncommitted.set(key, { ...o, failures: (o.failures ?? 0) + 1 });
        }
        if (!this.stopping && this.uncommitted.size > 0) {
          this.commitTimer ??= setTimeout(() => {
            this.commitTimer = undefined;
            void this.flushCommits().catch(() => undefined);
          }, this.options.commitIntervalMs ?? 250);
        }
        throw error;
      }
    };
    const next = this.committing.then(flush);
    this.committing = next.catch(() => undefined);
    return next;
  }

  private scheduleMarks(): void {
    clearTimeout(this.markTimer);
    this.markTimer = setTimeout(() => {
      void this.saveMarks()
        .catch((error: unknown) =>
          this.options.logger.warn(
            { consumer: this.name, err: error },
            'could not save how current the consumer is; trying again',
          ),
        )
        .finally(() => {
          if (!this.stopping) this.scheduleMarks();
        });
    }, this.options.appliedUntil?.intervalMs ?? 200);
    this.markTimer.unref();
  }

  private async saveMarks(): Promise<void> {
    if (!this.options.appliedUntil || this.unsavedMarks.size === 0) return;
    const pending = [...this.unsavedMarks.values()];
    const marks: AppliedMark[] = [];
    for (const mark of pending)
      marks.push({
        topic: mark.topic,
        partition: mark.partition,
        partitions: await this.partitionCount(mark.topic),
        until: new Date(mark.until),
      });
    await this.options.appliedUntil.save(marks);
    // A mark that moved while saving stays for the next round.
    for (const mark of pending)
      if (this.unsavedMarks.get(`${mark.topic}/${mark.partition}`)?.until === mark.until)
        this.unsavedMarks.delete(`${mark.topic}/${mark.partition}`);
  }

  private async partitionCount(topic: string): Promise<number> {
    const known = this.partitionCounts.get(topic);
    if (known !== undefined) return known;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const count = topics[0]?.partitions.length ?? 0;
      if (count > 0) this.partitionCounts.set(topic, count);
      return count;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private count(
    topic: string,
    type: string,
    outcome: 'processed' | 'duplicate' | 'ignored' | 'retried' | 'dead_lettered',
  ): void {
    this.metrics.events.inc({ consumer: this.name, topic, type, outcome });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}

function parseJson(value: string | null, headers: EventHeaders): unknown {
  if (value === null) {
    throw new EventValidationError(headers.eventType, headers.eventVersion, [
      { path: 'payload', message: 'message has no value' },
    ]);
  }
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new EventValidationError(headers.eventType, headers.eventVersion, [
      { path: 'payload', message: `not JSON: ${(error as Error).message}` },
    ]);
  }
}

export function createEventConsumer(options: EventConsumerOptions): EventConsumer {
  return new EventConsumer(options);
}

/** A unique consumer group for one-off reads (lab tooling, tests). */
export function throwawayGroupId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}
