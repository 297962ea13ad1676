import { z } from 'zod';
import { env } from '@faultline/config';

export const recommendationsConfigSchema = z.object({
  LOG_LEVEL: env.logLevel().default('info'),
  HTTP_PORT: env.port().default(9403),
  GRPC_PORT: env.port().default(50053),
  REDIS_URL: env.url('redis'),
  KAFKA_BROKERS: env.brokers(),
});
export type RecommendationsConfig = z.infer<typeof recommendationsConfigSchema>;
