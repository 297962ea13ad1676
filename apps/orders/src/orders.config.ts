import { z } from 'zod';
import { env } from '@faultline/config';

/** Everything orders reads from its environment, validated once at start (see libs/config). */
export const ordersConfigSchema = z.object({
  LOG_LEVEL: env.logLevel().default('info'),
  HTTP_PORT: env.port().default(9401),
  GRPC_PORT: env.port().default(50051),
  DATABASE_URL: env.url('postgres', 'postgresql'),
  KAFKA_BROKERS: env.brokers(),
  /** `outbox` (default, correct) or `dual-write` (commit, then publish: the naive variant the lab demonstrates). */
  ORDERS_PUBLISH: env.oneOf(['outbox', 'dual-write'] as const).default('outbox'),
  /** `batched` (default: one query for all customer names) or `naive` (one query per order: the N+1 lab). */
  ORDERS_LIST: env.oneOf(['batched', 'naive'] as const).default('batched'),
});
export type OrdersConfig = z.infer<typeof ordersConfigSchema>;
