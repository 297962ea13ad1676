import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '@faultline/database';
import { LOGGER, Logger, METRICS_REGISTRY } from '@faultline/observability';
import {
  findOrderDrift,
  ORDER_DRIFT_KINDS,
  type OrderDriftFinding,
  type OrderDriftKind,
} from '@faultline/reconciliation';
import type { OrdersConfig } from '../orders.config';
import { ORDERS_CONFIG } from '../orders.tokens';

/** Ids written to the log per kind and run: enough to start digging, bounded so a big drift cannot flood the log. */
const LOGGED_IDS = 50;

/**
 * Periodic reconciliation of what the orders database proves on its own (libs/reconciliation: orders stuck PENDING
 * past a grace period, final orders whose event is missing from the outbox), exported as `reconciliation_drift{kind}`
 * and logged with the ids whenever they change. Cross-database drift (notifications, reservations, inbox rows) is
 * `lab reconcile`'s: a service never reads another's tables (docs/architecture.md, "Services and data ownership").
 */
@Injectable()
export class ReconciliationJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<OrderDriftFinding[] | undefined>;
  private readonly drift: Gauge<'kind'>;
  private readonly runs: Counter<'outcome'>;
  /** The ids each kind reported at the last run: the log says what changed, not the same drift every minute. */
  private readonly lastIds = new Map<OrderDriftKind, string>();

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.drift = new Gauge({
      name: 'reconciliation_drift',
      help: 'Orders in drift at the last reconciliation run, by kind (stuck_pending, final_without_outbox_event)',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.runs = new Counter({
      name: 'reconciliation_runs_total',
      help: 'Reconciliation runs by outcome: ok, error',
      labelNames: ['outcome'],
      registers: [registry],
    });
    for (const kind of Object.keys(ORDER_DRIFT_KINDS) as OrderDriftKind[]) this.drift.set({ kind }, 0);
    for (const outcome of ['ok', 'error']) this.runs.inc({ outcome }, 0);
  }

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.run(), this.config.RECONCILIATION_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  /** One reconciliation (a run still in progress is joined, never doubled). Never throws: a failure is counted. */
  run(): Promise<OrderDriftFinding[] | undefined> {
    this.running ??= this.reconcile().finally(() => (this.running = undefined));
    return this.running;
  }

  private async reconcile(): Promise<OrderDriftFinding[] | undefined> {
    try {
      const findings = await findOrderDrift(this.dataSource, {
        pendingGraceS: this.config.RECONCILIATION_PENDING_GRACE_S,
        outboxRetentionHours: this.config.OUTBOX_RETENTION_HOURS,
      });
      for (const { kind, title, ids } of findings) {
        this.drift.set({ kind }, ids.length);
        const key = ids.join(',');
        if (key === (this.lastIds.get(kind) ?? '')) continue;
        this.lastIds.set(kind, key);
        if (ids.length > 0)
          this.logger.warn(
            { kind, count: ids.length, ids: ids.slice(0, LOGGED_IDS) },
            `reconciliation: drift: ${ids.length} ${title}`,
          );
        else this.logger.info({ kind, count: 0 }, `reconciliation: drift cleared: no order ${title}`);
      }
      this.runs.inc({ outcome: 'ok' });
      return findings;
    } catch (error) {
      // The gauges keep the last values: a database outage is not news that the drift went away.
      this.runs.inc({ outcome: 'error' });
      this.logger.warn({ err: error }, 'reconciliation run failed; will retry at the next interval');
      return undefined;
    }
  }
}
