/**
 * The token bucket, as ONE Lua script: read, refill, take and write happen atomically inside Redis, so concurrent
 * requests from any number of gateways can never both spend the same token (no read-modify-write across round trips).
 *
 * Time comes from Redis (`TIME`), never from the caller: every gateway of a fleet then refills the bucket by the same
 * clock, and a gateway with a skewed clock cannot mint tokens. (Redis ≥ 5 replicates scripts by effects, so a
 * non-deterministic TIME inside a writing script is allowed.)
 *
 * KEYS[1]  the bucket (a hash: tokens = fractional tokens left, ts = when they were counted, µs of Redis time)
 * ARGV[1]  capacity (tokens; also the burst)
 * ARGV[2]  refill rate (tokens per second, may be fractional)
 * ARGV[3]  cost of this request (tokens)
 *
 * Returns integers (Lua numbers are truncated on the way out, so times are in µs):
 *   { allowed 0|1, whole tokens remaining, µs until the bucket is full again, µs until `cost` tokens are available }
 *
 * The key expires after the time to refill completely: an idle bucket is indistinguishable from a full one, so
 * dropping it loses nothing and bounds memory by the number of active (user, route) pairs.
 */
export const TOKEN_BUCKET_LUA = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
if now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate / 1000000)
  ts = now
end
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
local full_us = math.ceil((capacity - tokens) * 1000000 / rate)
local retry_us = 0
if tokens < cost then
  retry_us = math.ceil((cost - tokens) * 1000000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%d', ts))
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(full_us / 1000)))
return { allowed, math.floor(tokens), full_us, retry_us }
`;
