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
});
export type InventoryConfig = z.infer<typeof inventoryConfigSchema>;
