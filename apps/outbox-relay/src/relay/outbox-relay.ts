// The CDC relay for one source database. Invariant (docs/decisions/postgres-cdc-relay.md): the slot's confirmed
// position only ever moves to a commit whose every outbox row Kafka acknowledged, or, when idle, to a keepalive
// position with nothing received-but-unpublished before it. Any failure ends the session WITHOUT acknowledging and a
// new session resumes from the slot's confirmed_flush_lsn: at-least-once, never a gap.
import { Client, Pool } from 'pg';
import type { Registry } from 'prom-client';
import { fullJitterDelay } from '@faultline/resilience';
import type { Logger } from '@faultline/observability';
import { OUTBOX_PUBLICATION, replicationSlotName } from '@faultline/outbox';
import { parseLsn } from './lsn';
import { RelayMetrics } from './relay-metrics';
import type { OutboxRelaySettings } from './relay-settings';
import { ReplicationSession } from './replication-session';
import { WallClock } from './wall-clock';

class SessionEnded extends Error {}

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

  /** One replication session (replication-session.ts) from the slot's confirmed position, until it ends. */
  private async session(onStreaming: () => void): Promise<void> {
    const startLsn = await this.prepareSlot();
    const session = new ReplicationSession({
      settings: this.settings,
      slot: this.slot,
      startLsn,
      metrics: this.metrics,
      clock: this.clock,
      logger: this.logger,
      onStreaming: (live) => {
        this._streaming = live;
        if (live) onStreaming();
      },
    });
    this.endSession = (error) => session.end(error);
    try {
      await session.run(() => this.stopping);
    } finally {
      this.endSession = undefined;
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

export type { OutboxRelaySettings };
