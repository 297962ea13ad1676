import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { isEventType } from '@faultline/contracts';

/**
 * Commit → Kafka ack, seconds. Fine below 50 ms, where a healthy relay lives (a p50 of 1-3 ms on the 2-core VMs the
 * bench suite ran on), so a p50 or p99 read from the buckets (the dashboards' histogram_quantile, the bench suite) is
 * good to a fraction of a millisecond there rather than to a 15 ms bucket; coarse above, up to the minutes a stopped
 * relay piles up.
 */
const LAG_BUCKETS = [
  0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25,
  0.5, 1, 2.5, 5, 10, 30, 60, 300,
];

export class RelayMetrics {
  readonly published: Counter<'source' | 'type'>;
  readonly lag: Histogram<'source'>;
  readonly transactions: Counter<'source'>;
  readonly slotLag: Gauge<'slot'>;
  readonly streaming: Gauge<'source'>;
  readonly restarts: Counter<'source'>;
  readonly slotsRecreated: Counter<'slot'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.published = new Counter({
      name: 'outbox_relay_events_published_total',
      help: 'Outbox events Kafka acknowledged',
      labelNames: ['source', 'type'],
      registers,
    });
    this.lag = new Histogram({
      name: 'outbox_relay_lag_seconds',
      help: 'Outbox transaction commit to Kafka acknowledgement',
      labelNames: ['source'],
      buckets: LAG_BUCKETS,
      registers,
    });
    this.transactions = new Counter({
      name: 'outbox_relay_transactions_total',
      help: 'Source transactions relayed and acknowledged',
      labelNames: ['source'],
      registers,
    });
    this.slotLag = new Gauge({
      name: 'replication_slot_lag_bytes',
      help: 'WAL the slot retains: pg_current_wal_lsn() - confirmed_flush_lsn',
      labelNames: ['slot'],
      registers,
    });
    this.streaming = new Gauge({
      name: 'outbox_relay_streaming',
      help: '1 while the relay streams from its slot',
      labelNames: ['source'],
      registers,
    });
    this.restarts = new Counter({
      name: 'outbox_relay_stream_restarts_total',
      help: 'Replication sessions that ended in an error and restarted from the slot',
      labelNames: ['source'],
      registers,
    });
    this.slotsRecreated = new Counter({
      name: 'outbox_relay_slot_recreated_total',
      help: 'Lost replication slots the relay recreated (events in between may be missing)',
      labelNames: ['slot'],
      registers,
    });
  }

  /** Event types are a fixed set; anything else is counted as `unknown` so labels stay bounded. */
  static typeLabel(type: string): string {
    return isEventType(type) ? type : 'unknown';
  }
}
