import { z } from 'zod';
import { env, readinessEnvFields, tracingEnvFields } from '@faultline/config';

export const outboxRelayConfigSchema = z.object({
  LOG_LEVEL: env.logLevel().default('info'),
  ...tracingEnvFields,
  ...readinessEnvFields,
  HTTP_PORT: env.port().default(9405),
  /** Which source database this relay streams (one relay process per source, each with its own slot). */
  RELAY_SOURCE: env.oneOf(['orders', 'inventory'] as const),
  DATABASE_URL: env.url('postgres', 'postgresql'),
  KAFKA_BROKERS: env.brokers(),
  /**
   * The replication slot; default `outbox_relay_<source>`. Slot names are cluster-wide: tests sharing a server set
   * their own.
   */
  RELAY_SLOT_NAME: z
    .string()
    .regex(/^[a-z0-9_]{1,63}$/, 'expected lowercase letters, digits and underscores (a replication slot name)')
    .optional(),
  /**
   * Every event to this one topic instead of its type's. Unset in the lab; the bench sets it on a second relay that
   * drains a backlog of its own, so no consumer sees those events.
   */
  RELAY_TOPIC: z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'expected a Kafka topic name (letters, digits, ".", "_", "-")')
    .optional(),
  /**
   * Received-but-unpublished events above which the WAL stream is paused: bounds memory while Kafka is slow or down
   * (10,000 small events are a few MB; the slot keeps the rest in WAL, visible as slot lag).
   */
  RELAY_MAX_BUFFERED_EVENTS: env.positiveInt().default(10000),
  /**
   * Most events per Kafka batch: large enough to amortise the round trip, small enough to stay far below
   * message.max.bytes.
   */
  RELAY_MAX_BATCH_EVENTS: env.positiveInt().default(500),
  /**
   * Ceiling of the back-off between replication sessions after a failure (Kafka or Postgres down): 10 s like the
   * supervisor.
   */
  RELAY_RESTART_BACKOFF_MAX_MS: env.millis().default(10000),
  /**
   * How often, at most, the slot's confirmed position is reported while events flow (Debezium flushes its offsets
   * every 60 s by default). Between reports, published events are not yet confirmed: a crashed relay publishes them
   * again, which is at-least-once as promised and what the consumers' inboxes absorb. A graceful stop reports first.
   */
  RELAY_ACK_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  /** Slot lag sampling period; Prometheus scrapes every 5 s. */
  RELAY_SLOT_LAG_INTERVAL_MS: env.millis().default(5000),
});
export type OutboxRelayConfig = z.infer<typeof outboxRelayConfigSchema>;
