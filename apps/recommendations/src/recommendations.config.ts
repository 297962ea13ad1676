import { z } from 'zod';
import { env, readinessEnvFields, tracingEnvFields } from '@faultline/config';

export const recommendationsConfigSchema = z.object({
  LOG_LEVEL: env.logLevel().default('info'),
  ...tracingEnvFields,
  ...readinessEnvFields,
  HTTP_PORT: env.port().default(9403),
  GRPC_PORT: env.port().default(50053),
  REDIS_URL: env.url('redis'),
  KAFKA_BROKERS: env.brokers(),
  /** Attempts before an OrderConfirmed that keeps failing (e.g. Redis down for long) goes to orders.events.dlq. */
  CONSUMER_MAX_ATTEMPTS: env.positiveInt().max(20).default(5),
  /**
   * How long a consumed event id is remembered (the dedupe window). A redelivery can only come from Kafka, which
   * keeps orders.events 7 days by default: 8 days outlives any redelivery while bounding the set of remembered ids.
   */
  RECS_EVENT_ID_TTL_SECONDS: env
    .positiveInt()
    .max(90 * 86_400)
    .default(8 * 86_400),
  /** Answer size when the caller asks for 0 ("the server's default", as the proto says). */
  RECS_DEFAULT_LIMIT: env.positiveInt().max(50).default(5),
});
export type RecommendationsConfig = z.infer<typeof recommendationsConfigSchema>;

export const RECOMMENDATIONS_CONFIG = Symbol('RECOMMENDATIONS_CONFIG');
