import type { Provider } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { METRICS_REGISTRY } from '@faultline/observability';

const SLOT_METRICS = Symbol('SLOT_METRICS');
const QUERY_TIMEOUT_MS = 1000;
const SHARED_READ_MS = 1000;

interface SlotRow {
  slot_name: string;
  retained: number | null;
  unconfirmed: number | null;
  lost: boolean;
}

/**
 * The replication slots of the service's own database, read by the service that owns it (at scrape time), not by the
 * relay that drains them: a dead or frozen relay cannot report the WAL it pins. `replication_slot_retained_wal_bytes`
 * is what Postgres keeps for the slot (`pg_current_wal_lsn() - restart_lsn`; a logical slot's restart point moves only
 * at running-transaction records, so it trails by seconds of WAL even when all is well),
 * `replication_slot_unconfirmed_wal_bytes` what its reader has not confirmed (`- confirmed_flush_lsn`: near 0 while a
 * relay streams), and `replication_slot_lost` is 1 once
 * the server removed WAL the slot still needed (`wal_status = 'lost'`, under max_slot_wal_keep_size). An unreadable
 * database clears both: no value is better than an old one.
 */
export function slotMetricsProvider(dataSourceToken: symbol): Provider {
  return {
    provide: SLOT_METRICS,
    inject: [dataSourceToken, METRICS_REGISTRY],
    useFactory: (dataSource: DataSource, registry: Registry) => {
      // One query per scrape: the three gauges collect together, so a read shared within a second serves them all.
      let last: { at: number; rows: Promise<SlotRow[] | undefined> } | undefined;
      const read = (): Promise<SlotRow[] | undefined> => {
        if (!last || Date.now() - last.at >= SHARED_READ_MS) last = { at: Date.now(), rows: query() };
        return last.rows;
      };
      const query = async (): Promise<SlotRow[] | undefined> => {
        let timer: NodeJS.Timeout | undefined;
        try {
          return await Promise.race([
            dataSource.query(
              `SELECT slot_name, (pg_current_wal_lsn() - restart_lsn)::float8 AS retained,
                      (pg_current_wal_lsn() - confirmed_flush_lsn)::float8 AS unconfirmed, wal_status = 'lost' AS lost
                 FROM pg_replication_slots WHERE database = current_database()`,
            ) as Promise<SlotRow[]>,
            new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), QUERY_TIMEOUT_MS))),
          ]);
        } catch {
          return undefined;
        } finally {
          clearTimeout(timer);
        }
      };
      new Gauge({
        name: 'replication_slot_retained_wal_bytes',
        help: "WAL Postgres keeps for each slot of this service's database (pg_current_wal_lsn() - restart_lsn), read by the database's owner",
        labelNames: ['slot'],
        registers: [registry],
        async collect() {
          const rows = await read();
          this.reset();
          for (const row of rows ?? [])
            if (row.retained !== null) this.set({ slot: row.slot_name }, Number(row.retained));
        },
      });
      new Gauge({
        name: 'replication_slot_unconfirmed_wal_bytes',
        help: "WAL past what each slot's reader confirmed (pg_current_wal_lsn() - confirmed_flush_lsn), read by the database's owner",
        labelNames: ['slot'],
        registers: [registry],
        async collect() {
          const rows = await read();
          this.reset();
          for (const row of rows ?? [])
            if (row.unconfirmed !== null) this.set({ slot: row.slot_name }, Number(row.unconfirmed));
        },
      });
      new Gauge({
        name: 'replication_slot_lost',
        help: "1 when a slot of this service's database lost WAL it needed (wal_status = 'lost'): events in between never reached Kafka",
        labelNames: ['slot'],
        registers: [registry],
        async collect() {
          const rows = await read();
          this.reset();
          for (const row of rows ?? []) this.set({ slot: row.slot_name }, row.lost ? 1 : 0);
        },
      });
      return true;
    },
  };
}
