import { z } from 'zod';
import { env, readinessEnvFields, tracingEnvFields } from '@faultline/config';

export const notificationsConfigSchema = z.object({
  LOG_LEVEL: env.logLevel().default('info'),
  ...tracingEnvFields,
  ...readinessEnvFields,
  HTTP_PORT: env.port().default(9404),
  GRPC_PORT: env.port().default(50054),
  DATABASE_URL: env.url('postgres', 'postgresql'),
  /** Connections in the service's pool: one insert per final order event; 5 is plenty. */
  DATABASE_POOL_SIZE: env.positiveInt().max(50).default(5),
  KAFKA_BROKERS: env.brokers(),
  /** Attempts before a final order event that keeps failing goes to orders.events.dlq. */
  CONSUMER_MAX_ATTEMPTS: env.positiveInt().max(20).default(5),
  /**
   * How long a transient failure (its database down, a connection cut) is retried before the event is dead-lettered
   * anyway: 60 s outlasts a restart. 0 treats it like any failure (the transient-failure experiment's naive twin).
   */
  CONSUMER_TRANSIENT_RETRY_MS: z.coerce.number().int().min(0).max(600_000).default(60_000),
  /**
   * `on` (default, correct: the event id is recorded in the inbox with the delivery, so a redelivered event sends
   * nothing) or `off` (the naive twin: every delivery of an event sends again, as a consumer without dedup does).
   */
  NOTIFICATIONS_INBOX: env.oneOf(['on', 'off'] as const).default('on'),
  /**
   * What the feed says it is current as of: `applied` (default, correct: the commit time up to which every order
   * event has been applied, from the consumer's saved marks) or `response-time` (the naive twin: "now", whatever
   * the consumer has not applied yet).
   */
  NOTIFICATIONS_AS_OF: env.oneOf(['applied', 'response-time'] as const).default('applied'),
});
export type NotificationsConfig = z.infer<typeof notificationsConfigSchema>;
