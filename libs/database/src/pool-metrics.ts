import type { Provider } from '@nestjs/common';
import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { METRICS_REGISTRY, registerPgPoolMetrics, type PgPoolStats } from '@faultline/observability';

const POOL_METRICS = Symbol('POOL_METRICS');

/** Exposes the DataSource's pg pool (TypeORM keeps it as `driver.master`) as db_pool_* gauges, read at scrape time. */
export function poolMetricsProvider(dataSourceToken: symbol): Provider {
  return {
    provide: POOL_METRICS,
    inject: [dataSourceToken, METRICS_REGISTRY],
    useFactory: (dataSource: DataSource, registry: Registry) => {
      registerPgPoolMetrics(registry, 'main', () => (dataSource.driver as unknown as { master?: PgPoolStats }).master);
      return true;
    },
  };
}
