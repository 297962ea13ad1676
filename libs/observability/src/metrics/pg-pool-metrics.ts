import { Gauge, type Registry } from 'prom-client';

/** What node-postgres' Pool reports about itself. */
export interface PgPoolStats {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/**
 * Saturation of a service's Postgres pool, read at scrape time: connections open (`state="total"`), idle, and
 * queries waiting for a connection. `pool` is the pool's name within the service (`main`), a fixed set. Waiting > 0
 * for long means the pool (DB_POOL_SIZE) is the bottleneck, not Postgres.
 */
export function registerPgPoolMetrics(registry: Registry, pool: string, stats: () => PgPoolStats | undefined): void {
  const pools = new Map<string, () => PgPoolStats | undefined>();
  const existing = registry.getSingleMetric('db_pool_connections') as
    (Gauge<'pool' | 'state'> & { pools?: typeof pools }) | undefined;
  if (existing?.pools) {
    existing.pools.set(pool, stats);
    return;
  }
  pools.set(pool, stats);
  const gauge = new Gauge({
    name: 'db_pool_connections',
    help: 'Postgres pool connections by state: total (open), idle; see db_pool_waiting_requests for queued queries',
    labelNames: ['pool', 'state'],
    registers: [registry],
    collect() {
      for (const [name, read] of pools) {
        const s = read();
        if (!s) continue;
        this.set({ pool: name, state: 'total' }, s.totalCount);
        this.set({ pool: name, state: 'idle' }, s.idleCount);
      }
    },
  }) as Gauge<'pool' | 'state'> & { pools?: typeof pools };
  gauge.pools = pools;
  new Gauge({
    name: 'db_pool_waiting_requests',
    help: 'Queries waiting for a Postgres pool connection',
    labelNames: ['pool'],
    registers: [registry],
    collect() {
      for (const [name, read] of pools) {
        const s = read();
        if (s) this.set({ pool: name }, s.waitingCount);
      }
    },
  });
}
