import { z } from 'zod';
import { env } from '@faultline/config';

export const outboxRelayConfigSchema = z.object({
  LOG_LEVEL: env.logLevel().default('info'),
  HTTP_PORT: env.port().default(9405),
  /** Which source database this relay streams (one relay process per source, each with its own slot). */
  RELAY_SOURCE: env.oneOf(['orders', 'inventory'] as const),
  DATABASE_URL: env.url('postgres', 'postgresql'),
  KAFKA_BROKERS: env.brokers(),
});
export type OutboxRelayConfig = z.infer<typeof outboxRelayConfigSchema>;
