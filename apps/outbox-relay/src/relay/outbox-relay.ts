// The CDC relay for one source database. Invariant (docs/decisions/postgres-cdc-relay.md): the slot's confirmed
// position only ever moves to a commit whose every outbox row Kafka acknowledged, or, when idle, to a keepalive
// position with nothing received-but-unpublished before it. Any failure ends the session WITHOUT acknowledging and a
// new session resumes from the slot's confirmed_flush_lsn: at-least-once, never a gap.
import { Client, Pool } from 'pg';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import type { Registry } from 'prom-client';
import { EVENT_REGISTRY } from '@faultline/contracts';
import { createEventProducer, createKafka, type EventProducer } from '@faultline/messaging';
import { fullJitterDelay } from '@faultline/resilience';
import type { Logger } from '@faultline/observability';
import { OUTBOX_PUBLICATION, replicationSlotName, type OutboxSource } from '@faultline/outbox';
import { acknowledgeArgument, formatLsn, parseLsn } from './lsn';
import { RelayMetrics } from './relay-metrics';
import { TransactionBuffer, type CommittedTransaction } from './transaction-buffer';
import { WallClock } from './wall-clock';

export interface OutboxRelaySettings {
  source: OutboxSource;
  /** Default `outbox_relay_<source>`. */
  slot?: string;
  /** Every event to this topic instead of its type's (RELAY_TOPIC: the bench's second relay). */
  topic?: string;
  databaseUrl: string;
  brokers: string[];
  /** Received-but-unpublished events above which the stream is paused (memory bound while Kafka is slow). */
  maxBufferedEvents: number;
  /** Most events per Kafka batch. */
  maxBatchEvents: number;
  /** Ceiling of the back-off between sessions. */
  restartBackoffMaxMs: number;
  /** How often replication_slot_lag_bytes is sampled. */
  slotLagIntervalMs: number;
  /** Least time between two reports of the confirmed position while events flow (0: after every batch). */
  ackIntervalMs: number;
}

class SessionEnded extends Error {}

interface PausableStream {
  pause(): void;
  resume(): void;
}

export class OutboxRelay {
  readonly slot: string;
  private readonly metrics: RelayMetrics;
  /** For the lag: Postgres stamps commits in microseconds. */
  private readonly clock = new WallClock();
  private stopping = false;
  private loop?: Promise<void>;
  private endSession?: (error: Error) => void;
  private wake?: () => void;
  private lagTimer?: NodeJS.Timeout;
  private readonly statsPool: Pool;
  private _streaming = false;

  constructor(
    private readonly settings: OutboxRelaySettings,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.slot = settings.slot ?? replicationSlotName(settings.source);
    this.metrics = new RelayMetrics(registry);
    this.statsPool = new Pool({ connectionString: settings.databaseUrl, max: 1, connectionTimeoutMillis: 2000 });
    this.statsPool.on('error', () => undefined);
  }

  /** True while a replication session is streaming (readiness). */
  get streaming(): boolean {
    return this._streaming;
  }

  start(): void {
    this.stopping = false;
    this.loop ??= this.run();
    this.lagTimer = setInterval(() => void this.sampleSlotLag(), this.settings.slotLagIntervalMs);
    this.lagTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.lagTimer);
    this.endSession?.(new SessionEnded('stopping'));
    this.wake?.();
    await this.loop;
    await this.statsPool.end().catch(() => undefined);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        await this.session(() => (failures = 0));
      } catch (error) {
        if (this.stopping) break;
        failures += 1;
        this.metrics.restarts.inc({ source: this.settings.source });
        this.logger.error(
          { err: error, slot: this.slot, failures },
          'replication session failed; resuming from the slot after a back-off',
        );
      }
      if (this.stopping) break;
      const delay = Math.max(
        250,
        fullJitterDelay(Math.max(failures - 1, 0), { baseMs: 500, capMs: this.settings.restartBackoffMaxMs }),
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** One replication session: prepare the slot, stream, publish, acknowledge; returns or throws when it ends. */
  private async session(onStreaming: () => void): Promise<void> {
    const { source } = this.settings;
    const startLsn = await this.prepareSlot();
    const producer: EventProducer = createEventProducer(
      createKafka({ clientId: `outbox-relay-${source}`, brokers: this.settings.brokers, connectionTimeoutMs: 3000 }),
      {
        // A row of a type this build does not know still goes out, to its source's topic: a consumer dead-letters it.
        fallbackTopic: source === 'orders' ? EVENT_REGISTRY.OrderPlaced.topic : EVENT_REGISTRY.InventoryReserved.topic,
        ...(this.settings.topic ? { topic: this.settings.topic } : {}),
      },
    );
    await producer.connect();

    const service = new LogicalReplicationService(
      { connectionString: this.settings.databaseUrl },
      // NEVER the defaults: the keepalive timer would acknowledge received-but-unpublished positions
      // (docs/decisions/postgres-cdc-relay.md).
      { acknowledge: { auto: false, timeoutSeconds: 0 } },
    );
    const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [OUTBOX_PUBLICATION] });
    const buffer = new TransactionBuffer();
    const queue: CommittedTransaction[] = [];
    let queuedEvents = 0;
    let publishing = false;
    let paused = false;
    let ended = false;
    /** The position the server was last told, and the position it may be told (both: everything before is in Kafka). */
    let reportedLsn = startLsn;
    let safeLsn = startLsn;

    let fail: (error: Error) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => {
      fail = (error) => {
        if (ended) return;
        ended = true;
        reject(error);
      };
    });
    failed.catch(() => undefined);
    this.endSession = fail;

    const stream = (): PausableStream | undefined =>
      (service as unknown as { _connection?: { stream?: PausableStream } })._connection?.stream;

    let reportedAt = 0;
    let reportTimer: NodeJS.Timeout | undefined;
    const report = async (force: boolean) => {
      if (ended || (!force && safeLsn === reportedLsn)) return;
      const wait = reportedAt + this.settings.ackIntervalMs - Date.now();
      if (!force && wait > 0) {
        // Too soon after the last report: the position goes out once the interval is over (or with a keepalive).
        reportTimer ??= setTimeout(() => {
          reportTimer = undefined;
          void report(false).catch((error: Error) => fail(error));
        }, wait);
        return;
      }
      clearTimeout(reportTimer);
      reportTimer = undefined;
      reportedLsn = safeLsn;
      reportedAt = Date.now();
      await service.acknowledge(acknowledgeArgument(safeLsn));
    };

    const pump = async () => {
      if (publishing) return;
      publishing = true;
      try {
        while (queue.length > 0 && !ended) {
          let take = 0;
          let events = 0;
          while (
            take < queue.length &&
            (take === 0 || events + queue[take].records.length <= this.settings.maxBatchEvents)
          ) {
            events += queue[take].records.length;
            take += 1;
          }
          const batch = queue.slice(0, take);
          await producer.publish(batch.flatMap((tx) => tx.records));
          if (ended) return;
          queue.splice(0, take);
          queuedEvents -= events;
          const now = this.clock.now();
          for (const tx of batch) {
            this.metrics.transactions.inc({ source });
            this.metrics.lag.observe({ source }, Math.max(0, now - tx.commitTimeMs) / 1000);
            for (const record of tx.records)
              this.metrics.published.inc({ source, type: RelayMetrics.typeLabel(record.type) });
          }
          // Kafka acknowledged every event of these transactions: now, and only now, their commit may be confirmed.
          safeLsn = batch[batch.length - 1].commitEndLsn;
          await report(false);
          if (paused && queuedEvents < this.settings.maxBufferedEvents / 2) {
            paused = false;
            stream()?.resume();
          }
        }
      } catch (error) {
        fail(error as Error);
      } finally {
        publishing = false;
      }
    };

    // The library emits 'data' and 'heartbeat' synchronously in stream order; both handlers stay synchronous so a
    // keepalive is never looked at before the data that preceded it.
    service.on('data', (_lsn: string, message: Pgoutput.Message) => {
      if (ended) return;
      try {
        const committed = buffer.apply(message);
        if (!committed) return;
        queue.push(committed);
        queuedEvents += committed.records.length;
        if (!paused && queuedEvents >= this.settings.maxBufferedEvents) {
          paused = true;
          stream()?.pause();
        }
        void pump();
      } catch (error) {
        fail(error as Error);
      }
    });
    service.on('heartbeat', (lsn: string, _timestamp: number, shouldRespond: boolean) => {
      if (ended) return;
      // Idle (no open transaction, nothing waiting or in flight): everything the server sent before this keepalive is
      // in Kafka, so its position is safe to confirm. Without this an idle slot would pin WAL written by others.
      if (!buffer.inTransaction && queue.length === 0 && !publishing) {
        const position = parseLsn(lsn);
        if (position > safeLsn) safeLsn = position;
      }
      void report(shouldRespond).catch((error: Error) => fail(error));
    });
    service.on('error', (error: Error) => fail(error));
    service.on('start', () => {
      this._streaming = true;
      this.metrics.streaming.set({ source }, 1);
      onStreaming();
      this.logger.info({ slot: this.slot, fromLsn: formatLsn(startLsn) }, 'streaming outbox inserts');
    });

    try {
      // Always an explicit start position: the slot's confirmed_flush_lsn, read just now.
      const streamed = service.subscribe(plugin, this.slot, formatLsn(startLsn)).then(() => {
        throw new Error('replication stream ended');
      });
      // Whichever loses the race settles later (destroy() ends the stream): never an unhandled rejection.
      streamed.catch(() => undefined);
      await Promise.race([streamed, failed]);
    } finally {
      clearTimeout(reportTimer);
      // A graceful stop confirms what Kafka already has, so the next start sends nothing twice.
      if (this.stopping && safeLsn !== reportedLsn)
        await service.acknowledge(acknowledgeArgument(safeLsn)).catch(() => undefined);
      ended = true;
      this._streaming = false;
      this.metrics.streaming.set({ source }, 0);
      this.endSession = undefined;
      await service.destroy().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
    }
  }

  /**
   * Makes sure the publication and the slot exist and returns the slot's confirmed position. A LOST slot (WAL removed
   * under max_slot_wal_keep_size) is dropped and recreated: the events committed in between are not in it any more.
   */
  private async prepareSlot(): Promise<bigint> {
    const client = new Client({ connectionString: this.settings.databaseUrl, connectionTimeoutMillis: 3000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const publication = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [OUTBOX_PUBLICATION]);
      if (publication.rowCount === 0) {
        throw new Error(
          `publication ${OUTBOX_PUBLICATION} does not exist: has the ${this.settings.source} service's migration run?`,
        );
      }
      let slot = await this.readSlot(client);
      if (slot?.wal_status === 'lost') {
        this.logger.fatal(
          { slot: this.slot, confirmedFlushLsn: slot.confirmed_flush_lsn },
          'REPLICATION SLOT LOST (its WAL was removed, e.g. max_slot_wal_keep_size): recreating it; outbox events committed ' +
            'since its confirmed position may be MISSING from Kafka. Run the lab reconcile to find them.',
        );
        await client.query('SELECT pg_drop_replication_slot($1)', [this.slot]);
        this.metrics.slotsRecreated.inc({ slot: this.slot });
        slot = undefined;
      }
      if (!slot) {
        try {
          await client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [this.slot]);
          this.logger.warn({ slot: this.slot }, 'created replication slot (first start, or recreated)');
        } catch (error) {
          if ((error as { code?: string }).code !== '42710') throw error; // created concurrently: fine
        }
        slot = await this.readSlot(client);
      }
      if (!slot?.confirmed_flush_lsn) throw new Error(`replication slot ${this.slot} has no confirmed_flush_lsn`);
      return parseLsn(slot.confirmed_flush_lsn);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async readSlot(
    client: Client,
  ): Promise<{ confirmed_flush_lsn: string | null; wal_status: string | null } | undefined> {
    const result = await client.query<{
      confirmed_flush_lsn: string | null;
      wal_status: string | null;
      plugin: string;
    }>('SELECT confirmed_flush_lsn::text, wal_status, plugin FROM pg_replication_slots WHERE slot_name = $1', [
      this.slot,
    ]);
    const row = result.rows[0];
    if (row && row.plugin !== 'pgoutput')
      throw new Error(`replication slot ${this.slot} uses ${row.plugin}, not pgoutput`);
    return row;
  }

  private async sampleSlotLag(): Promise<void> {
    try {
      const result = await this.statsPool.query<{ lag: string | null }>(
        'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text AS lag FROM pg_replication_slots WHERE slot_name = $1',
        [this.slot],
      );
      const lag = result.rows[0]?.lag;
      if (lag !== undefined && lag !== null) this.metrics.slotLag.set({ slot: this.slot }, Number(lag));
    } catch (error) {
      this.logger.warn({ err: error, slot: this.slot }, 'could not sample replication slot lag');
    }
  }
}
