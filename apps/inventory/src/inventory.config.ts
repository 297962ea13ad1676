import { z } from 'zod';
import { env, readinessEnvFields, tracingEnvFields } from '@faultline/config';

export const inventoryConfigSchema = z.object({
  LOG_LEVEL: env.logLevel().default('info'),
  ...tracingEnvFields,
  ...readinessEnvFields,
  HTTP_PORT: env.port().default(9402),
  GRPC_PORT: env.port().default(50052),
  DATABASE_URL: env.url('postgres', 'postgresql'),
  /** Connections in the service's pool: reservations are short transactions; 10 is plenty on one node. */
  DATABASE_POOL_SIZE: env.positiveInt().max(50).default(10),
  KAFKA_BROKERS: env.brokers(),
  /** Attempts before an OrderPlaced that keeps failing goes to orders.events.dlq. */
  CONSUMER_MAX_ATTEMPTS: env.positiveInt().max(20).default(5),
  /**
   * Partitions of orders.events reserved at once: the lab's topics have 3, so orders for one SKU placed together
   * race in the database as they would across replicas, and only the conditional decrement keeps them honest.
   */
  CONSUMER_CONCURRENCY: env.positiveInt().max(16).default(3),
  /**
   * `conditional` (default, correct: one `UPDATE … WHERE available >= n`) or `naive` (read the stock, decide, write
   * the new value: the lost-update bug the last-item-naive experiment shows as an oversell).
   */
  INVENTORY_RESERVE: env.oneOf(['conditional', 'naive'] as const).default('conditional'),
  /** Naive only: the time between reading the stock and writing it (a pricing or fraud call would take longer). */
  INVENTORY_NAIVE_DECIDE_MS: z.coerce.number().int().min(0).max(10_000).default(50),
});
export type InventoryConfig = z.infer<typeof inventoryConfigSchema>;
