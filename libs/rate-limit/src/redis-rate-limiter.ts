import Redis, { type RedisOptions } from 'ioredis';
import { TOKEN_BUCKET_LUA } from './token-bucket.script';

/** One bucket's shape: `capacity` requests back to back, then `refillPerSecond` on average. */
export interface BucketLimit {
  capacity: number;
  refillPerSecond: number;
}

/** What the bucket said about one request. */
export interface BucketState {
  allowed: boolean;
  /** The bucket's capacity (RateLimit-Limit). */
  limit: number;
  /** Whole tokens left after this request (RateLimit-Remaining). */
  remaining: number;
  /** Seconds until the bucket is full again, rounded up (RateLimit-Reset). */
  resetSeconds: number;
  /** Seconds until one token is available, rounded up; 0 when one is available now (Retry-After). */
  retryAfterSeconds: number;
}

export interface RateLimitRedisOptions {
  url: string;
  /**
   * The limiter's deadline (see RedisRateLimiter). ioredis's own command timeout is only a backstop that drops commands
   * a hung Redis never answers from the client's queue: it is set far above the deadline (≥ 2 s), because its timer is
   * not deferred past the I/O phase as the deadline's is, so after a busy stretch of the event loop it would reject an
   * answer already waiting in the socket.
   */
  commandTimeoutMs: number;
}

/** The limiter did not get Redis's answer within its deadline. */
export class RateLimiterTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`rate limiter: no answer from Redis within ${timeoutMs} ms`);
    this.name = 'RateLimiterTimeoutError';
  }
}

/**
 * Rejects when `promise` has not settled `ms` after the call. The check is deferred by one setImmediate: timers run
 * before I/O in Node's event loop, so after a busy stretch (a burst of RS256 verifications) a timer can fire while
 * Redis's answer is already waiting in the socket. Checking after the I/O phase measures Redis's slowness, not our
 * own event-loop lag — otherwise a loaded gateway would fail open (let requests through unlimited) exactly when
 * load is high.
 */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (settled) return;
          settled = true;
          reject(new RateLimiterTimeoutError(ms));
        }),
      ms,
    );
    promise.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

type WithTakeToken = Redis & {
  takeToken(
    key: string,
    capacity: number,
    refillPerSecond: number,
    cost: number,
  ): Promise<[number, number, number, number]>;
};

/**
 * The limiter's own Redis client, built to fail fast rather than wait: nothing is queued while disconnected (the call
 * rejects at once), nothing is retried (a retry would be a second round trip), and the connection is re-established in
 * the background every ≤ 200 ms so the limiter recovers quickly when Redis comes back.
 */
export function createRateLimitRedis(options: RateLimitRedisOptions): Redis {
  const redisOptions: RedisOptions = {
    commandTimeout: Math.max(2000, options.commandTimeoutMs * 40),
    connectTimeout: Math.max(200, options.commandTimeoutMs * 4),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => Math.min(attempt * 50, 200),
    // A blackholed connection is noticed by the command timeout; keep-alive lets the OS drop it eventually.
    keepAlive: 1000,
  };
  const client = new Redis(options.url, redisOptions);
  // Connection errors are expected during an outage; each failed command is reported by the limiter's caller.
  client.on('error', () => undefined);
  return client;
}

/**
 * Token buckets in Redis, one per key. `take` is exactly one round trip (EVALSHA; ioredis falls back to EVAL once if
 * the script is not cached yet, e.g. after a Redis restart). It rejects when Redis is unreachable or slower than
 * `timeoutMs`; what to do then is the caller's policy, not this class's.
 */
export class RedisRateLimiter {
  private readonly redis: WithTakeToken;
  private readonly keyPrefix: string;
  private readonly timeoutMs: number;

  /** `timeoutMs`: the longest one take() may wait for Redis; tens of ms (a healthy EVALSHA takes well under 1 ms). */
  constructor(redis: Redis, options: { keyPrefix?: string; timeoutMs: number }) {
    this.keyPrefix = options.keyPrefix ?? 'rl:';
    this.timeoutMs = options.timeoutMs;
    if (!('takeToken' in redis)) redis.defineCommand('takeToken', { numberOfKeys: 1, lua: TOKEN_BUCKET_LUA });
    this.redis = redis as WithTakeToken;
  }

  async take(key: string, limit: BucketLimit, cost = 1): Promise<BucketState> {
    const [allowed, remaining, fullMicros, retryMicros] = await withDeadline(
      this.redis.takeToken(this.keyPrefix + key, limit.capacity, limit.refillPerSecond, cost),
      this.timeoutMs,
    );
    return {
      allowed: allowed === 1,
      limit: limit.capacity,
      remaining,
      resetSeconds: Math.ceil(fullMicros / 1e6),
      retryAfterSeconds: Math.ceil(retryMicros / 1e6),
    };
  }
}
