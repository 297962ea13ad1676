import { z } from 'zod';
import { env, readinessEnvFields, tracingEnvFields } from '@faultline/config';

/** Everything orders reads from its environment, validated once at start (see libs/config). */
export const ordersConfigSchema = z.object({
  LOG_LEVEL: env.logLevel().default('info'),
  ...tracingEnvFields,
  ...readinessEnvFields,
  HTTP_PORT: env.port().default(9401),
  GRPC_PORT: env.port().default(50051),
  DATABASE_URL: env.url('postgres', 'postgresql'),
  /** Connections in the service's pool: enough for the gateway's concurrency, far below max_connections (200). */
  DATABASE_POOL_SIZE: env.positiveInt().max(50).default(10),
  KAFKA_BROKERS: env.brokers(),
  /** `outbox` (default, correct) or `dual-write` (commit, then publish: the naive variant the lab demonstrates). */
  ORDERS_PUBLISH: env.oneOf(['outbox', 'dual-write'] as const).default('outbox'),
  /** Dual-write only: a pause between commit and publish, so the dual-write-crash experiment can kill inside it. */
  ORDERS_DUAL_WRITE_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  /** `batched` (default: one query for all customer names) or `naive` (one query per order: the N+1 lab). */
  ORDERS_LIST: env.oneOf(['batched', 'naive'] as const).default('batched'),
  /**
   * `owner` (default: a customer reads only their own order) or `any-caller` (any authenticated caller reads any order
   * by its id: the IDOR the auth-attack lab shows, authentication without authorization).
   */
  ORDERS_READ: env.oneOf(['owner', 'any-caller'] as const).default('owner'),
  /** How long an Idempotency-Key is remembered; the contract promises at least 24 h, so less is refused. */
  IDEMPOTENCY_KEY_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(24)
    .max(24 * 30)
    .default(24),
  /** Outbox rows are relayed within seconds; a day of them is kept for inspection and reconciliation. */
  OUTBOX_RETENTION_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24),
  /** How often expired idempotency keys and old outbox rows are pruned. */
  RETENTION_INTERVAL_MS: env.millis(24 * 3600 * 1000).default(600_000),
  /**
   * How often the release of the online migration is re-read and acknowledged (a heartbeat `lab migrate` trusts for
   * 5 s, hence at most 2.5 s); it bounds a rollout step's wait. Each poll is two statements: at 250 ms they were most
   * of an idle orders' CPU, so once a second, and a step waits up to a second for its acknowledgements.
   */
  ORDERS_RELEASE_POLL_MS: env.millis(2500).default(1000),
  /** How often the reconciliation job looks for drift: once a minute, two scans of the orders table stay cheap. */
  RECONCILIATION_INTERVAL_MS: env.millis(3600 * 1000).default(60_000),
  /**
   * A PENDING order older than this is drift: far beyond a healthy saga (< 1 s) and any outage an experiment injects.
   */
  RECONCILIATION_PENDING_GRACE_S: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 3600)
    .default(300),
  /** Attempts before a saga event that keeps failing goes to inventory.events.dlq. */
  CONSUMER_MAX_ATTEMPTS: env.positiveInt().max(20).default(5),
});
export type OrdersConfig = z.infer<typeof ordersConfigSchema>;
