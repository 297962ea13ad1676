import { z } from 'zod';
import { env } from '@faultline/config';
import { FAILURE_POLICIES, type FailurePolicy } from '@faultline/rate-limit';

// `GET /v1/orders/:id=fail-open`: a route as Express templates it, then its policy.
const ROUTE_POLICY = /^(GET|POST|PUT|PATCH|DELETE) (\/\S*)=(fail-open|fail-closed)$/;

/** `POST /v1/orders=fail-closed,GET /v1/products=fail-open` → { 'POST /v1/orders': 'fail-closed', … }. */
export const routeFailurePolicies = () =>
  z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.string().regex(ROUTE_POLICY, 'expected "METHOD /route/:template=fail-open|fail-closed", comma-separated'),
      ),
    )
    .transform((entries) =>
      Object.fromEntries(
        entries.map((entry) => {
          const [, method, path, policy] = ROUTE_POLICY.exec(entry) as RegExpExecArray;
          return [`${method} ${path}`, policy as FailurePolicy];
        }),
      ),
    );

/** Tokens (the burst) and tokens per minute, bounded so a typo cannot turn a limit into no limit. */
const burst = () => env.positiveInt().max(100_000);
const perMinute = () => env.positiveInt().max(6_000_000);

/**
 * The rate limiter's part of the gateway config (docs/architecture.md, "Public REST contract"), to merge into
 * gatewayConfigSchema (`gatewayConfigSchema.extend(rateLimitConfigSchema.shape)` or `...rateLimitConfigSchema.shape`).
 *
 * One token bucket per (user, route template): BURST requests back to back, then PER_MINUTE on average. Reads are GET
 * (and HEAD); writes are everything else. A write costs a Postgres transaction, an outbox row, Kafka traffic and a
 * saga; a read is one indexed query — hence writes get a fraction of the reads' budget.
 */
export const rateLimitConfigSchema = z.object({
  /** The limiter's Redis; unset, it is REDIS_URL. A separate URL lets an experiment break only the limiter's edge. */
  RATE_LIMIT_REDIS_URL: env.url('redis').optional(),
  /**
   * How long one limiter call may take before Redis counts as unavailable (then the route's failure policy applies).
   * A healthy EVALSHA on the lab's Redis takes well under 1 ms, but the deadline must also sit above the pauses of the
   * machine the whole lab shares: on a 2-core VM running every service, Postgres, Kafka and a load, the scheduler
   * holds a process for 100–160 ms now and then (the bench suite's healthy p99s are made of them). At 50 ms, an
   * earlier default, such a pause made a healthy Redis "unavailable" and POST /v1/orders failed closed: 1 order of
   * 450 answered 503 during the online-migration experiment in CI. 250 ms is above those pauses, yet small against
   * every route's own deadline (≥ 1 s), so a slow Redis costs a request at most 250 ms, never a hang.
   */
  RATE_LIMIT_REDIS_TIMEOUT_MS: env.millis(1_000).default(250),
  /** A free user's reads: a client screen loads a handful of lists and products at once; 30 covers a few of them. */
  RATE_LIMIT_FREE_READ_BURST: burst().default(30),
  /** 60/min (one a second) is an interactive user clicking around, not a scraper polling in a loop. */
  RATE_LIMIT_FREE_READ_PER_MINUTE: perMinute().default(60),
  /** A free user's writes (orders): a handful in a row covers a retry or two of an order with its Idempotency-Key. */
  RATE_LIMIT_FREE_WRITE_BURST: burst().default(5),
  /** 10 orders a minute is far beyond what a person places; above it is a script, and each write is a saga. */
  RATE_LIMIT_FREE_WRITE_PER_MINUTE: perMinute().default(10),
  /** Paid users integrate (dashboards, batch jobs): ten times the free budget, reads. */
  RATE_LIMIT_PAID_READ_BURST: burst().default(300),
  RATE_LIMIT_PAID_READ_PER_MINUTE: perMinute().default(600),
  /** Paid writes: ten times free as well; orders and the saga behind them handle that comfortably in the lab. */
  RATE_LIMIT_PAID_WRITE_BURST: burst().default(50),
  RATE_LIMIT_PAID_WRITE_PER_MINUTE: perMinute().default(100),
  /**
   * When Redis cannot answer, reads are let through (fail open): refusing every read because the limiter is down
   * turns a limiter outage into a full outage, and a read's worst case is load the breakers and shedding bound anyway.
   */
  RATE_LIMIT_READ_FAILURE_POLICY: z.enum(FAILURE_POLICIES).default('fail-open'),
  /**
   * Writes are refused (fail closed, 503 + Retry-After): an unlimited burst of orders is new work on Postgres, Kafka
   * and the saga that cannot be taken back, and a client can retry an order safely with its Idempotency-Key.
   */
  RATE_LIMIT_WRITE_FAILURE_POLICY: z.enum(FAILURE_POLICIES).default('fail-closed'),
  /**
   * Per-route exceptions to the two above, as `METHOD /template=policy`, comma-separated (e.g.
   * `PUT /v1/admin/products/:sku/stock=fail-open`). Empty by default: the class defaults already give the contract's
   * GET routes fail-open and POST /v1/orders fail-closed (docs/architecture.md, "Public REST contract").
   */
  RATE_LIMIT_ROUTE_FAILURE_POLICIES: routeFailurePolicies().default({}),
  /**
   * Retry-After (seconds) on a fail-closed 503: the limiter reconnects to Redis every ≤ 200 ms, so a second or two
   * is enough to see whether Redis is back, without inviting a hot retry loop.
   */
  RATE_LIMIT_FAIL_CLOSED_RETRY_AFTER_SECONDS: env.positiveInt().max(300).default(2),
});
export type RateLimitConfig = z.infer<typeof rateLimitConfigSchema>;
