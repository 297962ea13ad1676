// One replication session of the relay: from the slot's confirmed position, every committed outbox transaction to
// Kafka, and a commit confirmed to Postgres only once Kafka acknowledged all of its events (the invariant of
// outbox-relay.ts). It ends on its first error, or when ended from outside; the relay then starts a new one.
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { EVENT_REGISTRY } from '@faultline/contracts';
import { createEventProducer, createKafka, type EventProducer } from '@faultline/messaging';
import type { Logger } from '@faultline/observability';
import { OUTBOX_PUBLICATION } from '@faultline/outbox';
import { acknowledgeArgument, formatLsn, parseLsn } from './lsn';
import type { OutboxRelaySettings } from './relay-settings';
import { RelayMetrics } from './relay-metrics';
import { TransactionBuffer, type CommittedTransaction } from './transaction-buffer';
import type { WallClock } from './wall-clock';

interface PausableStream {
  pause(): void;
  resume(): void;
}

export interface SessionContext {
  settings: OutboxRelaySettings;
  slot: string;
  /** The slot's confirmed position, read just before: the session streams from exactly there. */
  startLsn: bigint;
  metrics: RelayMetrics;
  /** For the lag: Postgres stamps commits in microseconds. */
  clock: WallClock;
  logger: Logger;
  /** Told when the stream goes live (true) and when the session is over (false). */
  onStreaming(live: boolean): void;
}

export class ReplicationSession {
  private readonly buffer = new TransactionBuffer();
  /** Committed transactions received and not yet acknowledged by Kafka, oldest first. */
  private readonly queue: CommittedTransaction[] = [];
  private queuedEvents = 0;
  private publishing = false;
  private paused = false;
  private ended = false;
  /** The position the server was last told, and the position it may be told (both: everything before is in Kafka). */
  private reportedLsn: bigint;
  private safeLsn: bigint;
  private reportedAt = 0;
  private reportTimer?: NodeJS.Timeout;
  private readonly failed: Promise<never>;
  private rejectFailed: (error: Error) => void = () => undefined;
  private service?: LogicalReplicationService;
  private producer?: EventProducer;

  constructor(private readonly ctx: SessionContext) {
    this.reportedLsn = ctx.startLsn;
    this.safeLsn = ctx.startLsn;
    this.failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined);
  }

  /** Ends the session with `error`: the first call counts, and nothing more is published or confirmed after it. */
  end(error: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.rejectFailed(error);
  }

  /** Streams until the session ends; throws why. `stopping` says, at the end, whether the relay is shutting down. */
  async run(stopping: () => boolean): Promise<void> {
    const producer = await this.connectProducer();
    const service = this.openStream();
    try {
      await this.stream(service);
    } finally {
      await this.close(service, producer, stopping());
    }
  }

  private async connectProducer(): Promise<EventProducer> {
    const { source, brokers, topic } = this.ctx.settings;
    this.producer = createEventProducer(
      createKafka({ clientId: `outbox-relay-${source}`, brokers, connectionTimeoutMs: 3000 }),
      {
        // A row of a type this build does not know still goes out, to its source's topic: a consumer dead-letters it.
        fallbackTopic: source === 'orders' ? EVENT_REGISTRY.OrderPlaced.topic : EVENT_REGISTRY.InventoryReserved.topic,
        ...(topic ? { topic } : {}),
      },
    );
    await this.producer.connect();
    return this.producer;
  }

  private openStream(): LogicalReplicationService {
    const service = new LogicalReplicationService(
      { connectionString: this.ctx.settings.databaseUrl },
      // NEVER the defaults: the keepalive timer would acknowledge received-but-unpublished positions
      // (docs/decisions/postgres-cdc-relay.md).
      { acknowledge: { auto: false, timeoutSeconds: 0 } },
    );
    this.service = service;
    // The library emits 'data' and 'heartbeat' synchronously in stream order; both handlers stay synchronous so a
    // keepalive is never looked at before the data that preceded it.
    service.on('data', (_lsn: string, message: Pgoutput.Message) => this.onData(message));
    service.on('heartbeat', (lsn: string, _timestamp: number, shouldRespond: boolean) =>
      this.onHeartbeat(lsn, shouldRespond),
    );
    service.on('error', (error: Error) => this.end(error));
    service.on('start', () => {
      this.ctx.metrics.streaming.set({ source: this.ctx.settings.source }, 1);
      this.ctx.onStreaming(true);
      this.ctx.logger.info({ slot: this.ctx.slot, fromLsn: formatLsn(this.ctx.startLsn) }, 'streaming outbox inserts');
    });
    return service;
  }

  private async stream(service: LogicalReplicationService): Promise<void> {
    const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [OUTBOX_PUBLICATION] });
    // Always an explicit start position: the slot's confirmed_flush_lsn, read just now.
    const streamed = service.subscribe(plugin, this.ctx.slot, formatLsn(this.ctx.startLsn)).then(() => {
      throw new Error('replication stream ended');
    });
    // Whichever loses the race settles later (destroy() ends the stream): never an unhandled rejection.
    streamed.catch(() => undefined);
    await Promise.race([streamed, this.failed]);
  }

  private async close(service: LogicalReplicationService, producer: EventProducer, stopping: boolean): Promise<void> {
    clearTimeout(this.reportTimer);
    // A graceful stop confirms what Kafka already has, so the next start sends nothing twice.
    if (stopping && this.safeLsn !== this.reportedLsn)
      await service.acknowledge(acknowledgeArgument(this.safeLsn)).catch(() => undefined);
    this.ended = true;
    this.ctx.metrics.streaming.set({ source: this.ctx.settings.source }, 0);
    this.ctx.onStreaming(false);
    await service.destroy().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
  }

  /** A decoded WAL message: a committed transaction joins the queue, and the stream pauses when the queue is full. */
  private onData(message: Pgoutput.Message): void {
    if (this.ended) return;
    try {
      const committed = this.buffer.apply(message);
      if (!committed) return;
      this.queue.push(committed);
      this.queuedEvents += committed.records.length;
      if (!this.paused && this.queuedEvents >= this.ctx.settings.maxBufferedEvents) {
        this.paused = true;
        this.pausable()?.pause();
      }
      void this.publish();
    } catch (error) {
      this.end(error as Error);
    }
  }

  /** A keepalive: confirms its position when nothing received is unpublished, and answers it if asked to. */
  private onHeartbeat(lsn: string, shouldRespond: boolean): void {
    if (this.ended) return;
    // Idle (no open transaction, nothing waiting or in flight): everything the server sent before this keepalive is
    // in Kafka, so its position is safe to confirm. Without this an idle slot would pin WAL written by others.
    if (!this.buffer.inTransaction && this.queue.length === 0 && !this.publishing) {
      const position = parseLsn(lsn);
      if (position > this.safeLsn) this.safeLsn = position;
    }
    void this.confirm(shouldRespond).catch((error: Error) => this.end(error));
  }

  /** Publishes the queue in batches, one at a time, and moves the safe position past each batch Kafka acknowledged. */
  private async publish(): Promise<void> {
    if (this.publishing) return;
    this.publishing = true;
    const { source } = this.ctx.settings;
    try {
      while (this.queue.length > 0 && !this.ended) {
        const { take, events } = this.nextBatch();
        const batch = this.queue.slice(0, take);
        await this.producer?.publish(batch.flatMap((tx) => tx.records));
        if (this.ended) return;
        this.queue.splice(0, take);
        this.queuedEvents -= events;
        const now = this.ctx.clock.now();
        for (const tx of batch) {
          this.ctx.metrics.transactions.inc({ source });
          this.ctx.metrics.lag.observe({ source }, Math.max(0, now - tx.commitTimeMs) / 1000);
          for (const record of tx.records)
            this.ctx.metrics.published.inc({ source, type: RelayMetrics.typeLabel(record.type) });
        }
        // Kafka acknowledged every event of these transactions: now, and only now, their commit may be confirmed.
        this.safeLsn = batch[batch.length - 1].commitEndLsn;
        await this.confirm(false);
        if (this.paused && this.queuedEvents < this.ctx.settings.maxBufferedEvents / 2) {
          this.paused = false;
          this.pausable()?.resume();
        }
      }
    } catch (error) {
      this.end(error as Error);
    } finally {
      this.publishing = false;
    }
  }

  /** Whole transactions from the head of the queue, up to maxBatchEvents (a bigger transaction goes alone). */
  private nextBatch(): { take: number; events: number } {
    let take = 0;
    let events = 0;
    while (
      take < this.queue.length &&
      (take === 0 || events + this.queue[take].records.length <= this.ctx.settings.maxBatchEvents)
    ) {
      events += this.queue[take].records.length;
      take += 1;
    }
    return { take, events };
  }

  /**
   * Tells the server the safe position, at most once per ackIntervalMs while events flow (`force`: now, as a
   * keepalive that asks for an answer requires).
   */
  private async confirm(force: boolean): Promise<void> {
    if (this.ended || (!force && this.safeLsn === this.reportedLsn)) return;
    const wait = this.reportedAt + this.ctx.settings.ackIntervalMs - Date.now();
    if (!force && wait > 0) {
      // Too soon after the last report: the position goes out once the interval is over (or with a keepalive).
      this.reportTimer ??= setTimeout(() => {
        this.reportTimer = undefined;
        void this.confirm(false).catch((error: Error) => this.end(error));
      }, wait);
      return;
    }
    clearTimeout(this.reportTimer);
    this.reportTimer = undefined;
    this.reportedLsn = this.safeLsn;
    this.reportedAt = Date.now();
    await this.service?.acknowledge(acknowledgeArgument(this.safeLsn));
  }

  private pausable(): PausableStream | undefined {
    return (this.service as unknown as { _connection?: { stream?: PausableStream } } | undefined)?._connection?.stream;
  }
}
