export { TOKEN_BUCKET_LUA } from './token-bucket.script';
export {
  createRateLimitRedis,
  RateLimiterTimeoutError,
  RedisRateLimiter,
  type BucketLimit,
  type BucketState,
  type RateLimitRedisOptions,
} from './redis-rate-limiter';
export {
  admits,
  decide,
  DECISIONS,
  FAILURE_POLICIES,
  rateLimitHeaders,
  type FailurePolicy,
  type RateLimitDecision,
  type RateLimitDecisionKind,
  type TokenTaker,
} from './rate-limit-decision';
export { RateLimitMetrics } from './rate-limit-metrics';
