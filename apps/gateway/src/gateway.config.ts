import { existsSync } from 'node:fs';
import { z } from 'zod';
import { env, readinessEnvFields, tracingEnvFields } from '@faultline/config';
import { rateLimitConfigSchema } from './rate-limit/rate-limit.config';

export const gatewayConfigSchema = z.object({
  LOG_LEVEL: env.logLevel().default('info'),
  ...tracingEnvFields,
  ...readinessEnvFields,
  /** The public REST port (the lab maps LAB_GATEWAY_PORT to it). */
  HTTP_PORT: env.port().default(8080),
  REDIS_URL: env.url('redis'),
  ORDERS_GRPC_ADDRESS: env.hostPort(),
  INVENTORY_GRPC_ADDRESS: env.hostPort(),
  RECOMMENDATIONS_GRPC_ADDRESS: env.hostPort(),
  NOTIFICATIONS_GRPC_ADDRESS: env.hostPort(),
  /**
   * PEM public keys that access tokens are verified with (RS256); the lab generates the pair under .lab/secrets. During
   * a key rotation the file holds the new key and the previous one (each token names its key by kid); the gateway
   * reads the file again when it changes (checked at most once a second), so a rotation needs no restart.
   */
  JWT_PUBLIC_KEY_FILE: z.string().refine((file) => existsSync(file), 'no such file'),
  /**
   * How stale the gateway's copy of the revoked tokens (Redis, `lab revoke`) may be when a token is checked: a
   * revocation takes effect within this bound. One small read per period while requests come, none while idle.
   */
  REVOCATION_MAX_AGE_MS: env.millis(60_000).default(1_000),
  /** How long a read of the revoked tokens may take; past it the check uses its last copy (fails open, counted). */
  REVOCATION_READ_TIMEOUT_MS: env.millis(5_000).default(100),
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
   * Deadline of one call to recommendations, and the latency budget of GET /v1/recommendations. It answers from one
   * Redis ZRANGE (about 1 ms); a recommendation is a nicety on a page, so 300 ms is the most it may add before the
   * page shows the static default instead. The breaker's timeout is the same number.
   */
  RECOMMENDATIONS_GRPC_DEADLINE_MS: env.millis(10_000).default(300),
  /**
   * What GET /v1/recommendations answers when recommendations fails or its breaker is open. `static` (default, the
   * correct variant): a list computed at start-up, no I/O. `naive`: ask orders for its top sellers on EVERY fallback,
   * a fresh aggregate over the orders database, which the order path shares (the lab's lesson: docs/architecture.md,
   * "Consistency").
   */
  RECS_FALLBACK: env.oneOf(['static', 'naive'] as const).default('static'),
  /**
   * The built-in static default, best first, used when recommendations could not be asked at start-up: the first 20
   * catalogue SKUs, so any limit (1..20) can be answered in full.
   */
  RECS_STATIC_DEFAULT_SKUS: z
    .string()
    .default(Array.from({ length: 20 }, (_, i) => `SKU-${String(i + 1).padStart(4, '0')}`).join(','))
    .transform((value) =>
      value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string().regex(/^SKU-\d{4}$/, 'expected SKUs like SKU-0001'))
        .min(1)
        .max(20),
    ),
  /**
   * Circuit breakers, one per dependency (orders, inventory, recommendations, notifications), same policy each; a
   * breaker's timeout is its dependency's deadline. Opens when more than this percentage of calls in the rolling
   * window failed (UNAVAILABLE, INTERNAL, timeouts…; a caller's NOT_FOUND or INVALID_ARGUMENT never counts): 50% is a
   * dependency that fails more than it works, not a blip.
   */
  BREAKER_ERROR_THRESHOLD_PERCENT: env.positiveInt().max(100).default(50),
  /**
   * Calls needed in the window before the breaker may open: 10 keeps two unlucky calls from opening it at low traffic.
   */
  BREAKER_VOLUME_THRESHOLD: env.positiveInt().max(10_000).default(10),
  /** The rolling window the error rate is measured over: 10 s reacts within seconds yet smooths single bursts. */
  BREAKER_ROLLING_WINDOW_MS: env.millis(600_000).default(10_000),
  /**
   * How long an open breaker fails fast before letting ONE trial call through (half-open). The lab's supervisor
   * restarts a crashed process within 0.5–10 s; probing every 5 s finds a recovered dependency soon at the cost of
   * one request per 5 s.
   */
  BREAKER_RESET_TIMEOUT_MS: env.millis(600_000).default(5_000),
  /**
   * Retries of idempotent reads (GETs) that failed with UNAVAILABLE (the request did not reach or was refused by the
   * dependency); writes are never retried. At most 2: a third attempt rarely succeeds where two failed.
   */
  RETRY_MAX: z.coerce.number().int().min(0).max(2).default(2),
  /**
   * Full-jitter exponential backoff: the n-th retry waits uniformly 0..min(cap, base × 2^n) ms. 25 ms base and
   * 250 ms cap fit inside the 1–2 s deadlines (the call's deadline covers its retries).
   */
  RETRY_BASE_MS: env.millis(10_000).default(25),
  RETRY_CAP_MS: env.millis(10_000).default(250),
  /**
   * Retry budget per dependency (token bucket): each call earns RATIO of a retry, at most BURST saved up. Over any
   * interval retries ≤ BURST + RATIO × calls, so in an outage a dependency sees at most ~1.1× the calls, not 3×.
   */
  RETRY_BUDGET_RATIO: z.coerce.number().min(0).max(1).default(0.1),
  RETRY_BUDGET_BURST: z.coerce.number().int().min(0).max(1_000).default(10),
  /**
   * Load shedding: the most requests in flight per route class; beyond it the gateway answers 503 + Retry-After at
   * once instead of queueing. Reads: 200 (≈ 200 × 5 ms = 40k req/s healthy, yet bounded memory and latency when a
   * dependency slows: at a 1 s deadline, 200 in flight is already 200 req/s of waiting). Writes: 50, each holds an
   * orders transaction and a pooled connection. Recommendations: 100, its own class so a slow recommendations
   * edge can never take the capacity of orders and products.
   */
  SHED_MAX_IN_FLIGHT_READS: env.positiveInt().max(100_000).default(200),
  SHED_MAX_IN_FLIGHT_WRITES: env.positiveInt().max(100_000).default(50),
  SHED_MAX_IN_FLIGHT_RECOMMENDATIONS: env.positiveInt().max(100_000).default(100),
  /**
   * Load shedding when the gateway itself is the bottleneck: while its event loop runs later than this (ms) two
   * windows of 250 ms in a row, every new request is answered 503 at once, since a late loop answers even cheap
   * requests late and the in-flight bounds never fill (the requests wait before them). 300 ms is far above a healthy
   * loop (< 10 ms) and a garbage collection, and well below the 2 s deadlines. 0 turns it off.
   */
  SHED_MAX_EVENT_LOOP_LAG_MS: z.coerce.number().int().min(0).max(60_000).default(300),
  /**
   * Writes admitted per second by this gateway (0: no bound), with SHED_WRITES_BURST at once: an order leaves the
   * gateway in milliseconds but costs its saga tens of milliseconds of CPU further on, so an in-flight bound alone
   * lets a burst through that the pipeline cannot settle, and its backlog then slows everything, the gateway's own
   * answers and its callers included. Set it to what the pipeline behind settles (the deployment knows; see the lab's
   * own topology); beyond it a write is answered 503 + Retry-After at once.
   */
  SHED_MAX_WRITES_PER_S: z.coerce.number().min(0).max(100_000).default(0),
  /** Writes admitted at once above that rate (a checkout rush): 100 keeps 50 buyers of the last item in one go. */
  SHED_WRITES_BURST: env.positiveInt().max(100_000).default(100),
  /** Retry-After (seconds) on a shed request: in-flight work drains within a deadline (≤ 2 s); 1 s spreads retries. */
  SHED_RETRY_AFTER_SECONDS: env.positiveInt().max(300).default(1),
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
  ...rateLimitConfigSchema.shape,
});
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/** The config as Nest's injector sees it. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
