import { z } from 'zod';
import { env } from '@faultline/config';

export const inventoryConfigSchema = z.object({
  LOG_LEVEL: env.logLevel().default('info'),
  HTTP_PORT: env.port().default(9402),
  GRPC_PORT: env.port().default(50052),
  DATABASE_URL: env.url('postgres', 'postgresql'),
  KAFKA_BROKERS: env.brokers(),
});
export type InventoryConfig = z.infer<typeof inventoryConfigSchema>;
