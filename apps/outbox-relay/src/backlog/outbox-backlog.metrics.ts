import { Pool } from 'pg';
import { Gauge, type Registry } from 'prom-client';
import { OUTBOX_TABLE } from '@faultline/outbox';
import type { Logger } from '@faultline/observability';

/** How many (time, WAL head) samples are kept: one hour at the default interval, enough to age a long outage. */
const HISTORY = 1800;

export interface OutboxBacklogOptions {
  source: string;
  slot: string;
  databaseUrl: string;
  intervalMs: number;
  registry: Registry;
  logger: Logger;
}

interface HeadSample {
  atMs: number;
  lsn: bigint;
}

const lsnToBigInt = (lsn: string) => {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
};

/**
 * `outbox_oldest_pending_age_seconds{source}`: the age of the oldest outbox row the relay has not yet confirmed to
 * its slot, i.e. not yet acknowledged by Kafka (the relay only confirms a commit once Kafka acked all its rows).
 *
 * Postgres does not say which rows lie beyond the slot's confirmed_flush_lsn, so this sampler keeps a history of
 * (time, pg_current_wal_lsn()) pairs. T = the latest sample time whose WAL head the slot has confirmed: everything
 * committed before T is relayed. Pending rows are those created after T; the gauge is now − the oldest of them
 * (0 when there is none). Its resolution is the sampling interval: a row created just before T but committed after
 * it is missed until the next sample, and a row relayed since the last sample may still be counted for one interval.
 * It reads the source database, never the relay's memory, so it keeps growing while the relay is down or stuck.
 */
export class OutboxBacklogMetrics {
  private readonly pool: Pool;
  private readonly history: HeadSample[] = [];
  private readonly gauge: Gauge<'source'>;
  private timer?: NodeJS.Timeout;
  private sampling?: Promise<void>;

  constructor(private readonly options: OutboxBacklogOptions) {
    this.pool = new Pool({
      connectionString: options.databaseUrl,
      max: 1,
      connectionTimeoutMillis: 2000,
      query_timeout: 2000,
    });
    this.pool.on('error', () => undefined);
    this.gauge = new Gauge({
      name: 'outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest outbox row not yet acknowledged by Kafka and confirmed to the replication slot (0 when none)',
      labelNames: ['source'],
      registers: [options.registry],
    });
  }

  start(): void {
    const tick = () => {
      if (this.sampling) return; // one sample at a time
      this.sampling = this.sample()
        .finally(() => {
          this.sampling = undefined;
        })
        .catch((error: unknown) => this.options.logger.debug({ err: error }, 'outbox backlog sample failed'));
    };
    tick();
    this.timer = setInterval(tick, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // A sample in flight ends within query_timeout; the pool closes once it has.
    await this.sampling;
    await this.pool.end().catch(() => undefined);
  }

  async sample(): Promise<void> {
    const now = Date.now();
    const { rows } = await this.pool.query<{ head: string; confirmed: string | null }>(
      `SELECT pg_current_wal_lsn()::text AS head,
              (SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1) AS confirmed`,
      [this.options.slot],
    );
    const head = lsnToBigInt(rows[0].head);
    this.history.push({ atMs: now, lsn: head });
    if (this.history.length > HISTORY) this.history.shift();
    if (rows[0].confirmed === null) return; // no slot yet: the relay has not started; nothing to age against
    const confirmed = lsnToBigInt(rows[0].confirmed);
    // The latest moment whose WAL head the slot has confirmed; the oldest remembered one if none (a long outage).
    const caughtUp = [...this.history].reverse().find((s) => s.lsn <= confirmed) ?? this.history[0];
    const { rows: pending } = await this.pool.query<{ age: string | null }>(
      `SELECT extract(epoch FROM now() - min(created_at))::float8 AS age FROM ${OUTBOX_TABLE} WHERE created_at > to_timestamp($1::float8 / 1000)`,
      [caughtUp.atMs],
    );
    this.gauge.set({ source: this.options.source }, Math.max(0, Number(pending[0].age ?? 0)));
  }
}
