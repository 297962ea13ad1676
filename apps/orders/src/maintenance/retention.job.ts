import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '@faultline/database';
import { LOGGER, Logger } from '@faultline/observability';
import { pruneOutbox } from '@faultline/outbox';
import type { OrdersConfig } from '../orders.config';
import { ORDERS_CONFIG } from '../orders.tokens';

/** Prunes idempotency keys past their expiry (kept ≥ 24 h) and outbox rows past their retention, periodically. */
@Injectable()
export class RetentionJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.run(), this.config.RETENTION_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  async run(): Promise<{ idempotencyKeys: number; outboxRows: number }> {
    try {
      const keys: [unknown[], number] = await this.dataSource.query(
        'DELETE FROM idempotency_keys WHERE expires_at < now()',
      );
      const outboxRows = await pruneOutbox(this.dataSource, this.config.OUTBOX_RETENTION_HOURS * 3600 * 1000);
      const result = { idempotencyKeys: keys[1] ?? 0, outboxRows };
      if (result.idempotencyKeys + result.outboxRows > 0) this.logger.info(result, 'retention: pruned');
      return result;
    } catch (error) {
      this.logger.warn({ err: error }, 'retention run failed; will retry at the next interval');
      return { idempotencyKeys: 0, outboxRows: 0 };
    }
  }
}
