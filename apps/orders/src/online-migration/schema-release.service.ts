import { hostname } from 'node:os';
import { Inject, Injectable, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '@faultline/database';
import { LOGGER, Logger, METRICS_REGISTRY } from '@faultline/observability';
import type { OrdersConfig } from '../orders.config';
import { ORDERS_CONFIG } from '../orders.tokens';
import type { OrderColumns } from '../database/order-columns.port';
import {
  describeRelease,
  insertOrderSql,
  isLineCountRelease,
  LINE_COUNT_RELEASES,
  LINE_COUNT_ROLLOUT,
  LineCountRelease,
  readColumn,
} from './line-count.release';

/**
 * The release of the line_count rollout this instance runs (see line-count.release.ts). It follows `schema_release`
 * every ORDERS_RELEASE_POLL_MS and THEN acknowledges in `schema_release_seen`: an acknowledgement is only written once
 * every later transaction uses the new release, which is what `lab migrate`'s barrier relies on. Exported as
 * `orders_schema_release{release}` (1 for the current one). As the `OrderColumns` port, it tells the write and read
 * paths which line-count columns this release writes and reads.
 */
@Injectable()
export class SchemaReleaseService implements OrderColumns, OnApplicationBootstrap, BeforeApplicationShutdown {
  private release: LineCountRelease = 'item-count';
  private readonly instance = `${hostname()}:${process.pid}`;
  private readonly gauge: Gauge<'release'>;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.gauge = new Gauge({
      name: 'orders_schema_release',
      help: 'Release of the line_count rollout this instance runs (1 = current)',
      labelNames: ['release'],
      registers: [registry],
    });
  }

  /** The release to use for a transaction that has already begun (read it after BEGIN: see the class comment). */
  current(): LineCountRelease {
    return this.release;
  }

  insertOrderSql(): string {
    return insertOrderSql(this.release);
  }

  lineCountColumn(): string {
    return readColumn(this.release);
  }

  async onApplicationBootstrap() {
    // Before serving: a restarted instance must not write with a release older than the rollout's.
    await this.refresh(true);
    this.timer = setInterval(() => void this.refresh(false), this.config.ORDERS_RELEASE_POLL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown() {
    clearInterval(this.timer);
    await this.dataSource
      .query('DELETE FROM schema_release_seen WHERE instance = $1', [this.instance])
      .catch(() => undefined);
  }

  async refresh(failLoudly: boolean): Promise<void> {
    try {
      const [row] = (await this.dataSource.query('SELECT release FROM schema_release WHERE rollout = $1', [
        LINE_COUNT_ROLLOUT,
      ])) as { release: string }[];
      const next = row?.release;
      if (!isLineCountRelease(next))
        throw new Error(`schema_release has no valid release for ${LINE_COUNT_ROLLOUT} (found ${String(next)})`);
      if (next !== this.release) {
        this.logger.info({ from: this.release, to: next }, `schema release: now ${next} (${describeRelease(next)})`);
        this.release = next;
      }
      for (const r of LINE_COUNT_RELEASES) this.gauge.set({ release: r }, r === next ? 1 : 0);
      await this.dataSource.query(
        `INSERT INTO schema_release_seen (instance, rollout, release, seen_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (instance) DO UPDATE SET release = EXCLUDED.release, seen_at = EXCLUDED.seen_at`,
        [this.instance, LINE_COUNT_ROLLOUT, next],
      );
    } catch (error) {
      if (failLoudly) throw error;
      this.logger.warn({ err: error }, 'schema release: could not refresh; keeping the current release');
    }
  }
}
