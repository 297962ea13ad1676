import { existsSync } from 'node:fs';
import { z } from 'zod';
import { env } from '@faultline/config';

export const gatewayConfigSchema = z.object({
  LOG_LEVEL: env.logLevel().default('info'),
  /** The public REST port (the lab maps LAB_GATEWAY_PORT to it). */
  HTTP_PORT: env.port().default(8080),
  REDIS_URL: env.url('redis'),
  ORDERS_GRPC_ADDRESS: env.hostPort(),
  INVENTORY_GRPC_ADDRESS: env.hostPort(),
  RECOMMENDATIONS_GRPC_ADDRESS: env.hostPort(),
  NOTIFICATIONS_GRPC_ADDRESS: env.hostPort(),
  /** PEM public key that access tokens are verified with (RS256); the lab generates the pair under .lab/secrets. */
  JWT_PUBLIC_KEY_FILE: z.string().refine((file) => existsSync(file), 'no such file'),
  JWT_ISSUER: z.string().min(1).default('faultline-lab'),
  JWT_AUDIENCE: z.string().min(1).default('faultline-api'),
  /**
   * Deadline of one call to orders. PlaceOrder is one Postgres transaction (order, items, idempotency record, outbox
   * row): a few ms when healthy. 2 s is far above its healthy p99 yet leaves a client with a typical 5 s timeout time
   * to retry with the same Idempotency-Key instead of hanging on a stuck database.
   */
  ORDERS_GRPC_DEADLINE_MS: env.millis(30_000).default(2_000),
  /** Deadline of one call to inventory: catalogue reads and an admin's SetStock are single-row queries. */
  INVENTORY_GRPC_DEADLINE_MS: env.millis(30_000).default(1_000),
  /** Deadline of one call to notifications: one indexed read of the caller's notifications. */
  NOTIFICATIONS_GRPC_DEADLINE_MS: env.millis(30_000).default(1_000),
  /**
   * The largest request body accepted (bytes), else 413. The largest valid body (20 items) is under 1.5 KiB;
   * 16 KiB leaves room for pretty-printed JSON while bounding what one request can make the parser do.
   */
  HTTP_BODY_LIMIT_BYTES: env.positiveInt().max(1_048_576).default(16_384),
  /**
   * Retry-After (seconds) on 503 when a dependency is unavailable: long enough not to hammer a restarting service
   * (the lab's supervisor restarts a process within 0.5–10 s), short enough that a client retries soon.
   */
  UNAVAILABLE_RETRY_AFTER_SECONDS: env.positiveInt().max(300).default(2),
});
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/** The config as Nest's injector sees it. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
