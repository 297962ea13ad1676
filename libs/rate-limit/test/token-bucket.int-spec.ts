// The token bucket's arithmetic at its edges, against the real Lua script in the shared test lab's real Redis, and
// the client's fail-fast behaviour against a Redis that is slow (blackholed) or gone. Every test uses its own key
// prefix, so runs never see each other's buckets.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { createRateLimitRedis, RedisRateLimiter, type BucketLimit } from '../src/index';

const REDIS_URL = process.env.FAULTLINE_TEST_REDIS_URL as string;
const run = `rl-test:${Date.now().toString(36)}:${process.pid}:`;
let prefixes = 0;
const clients: Redis[] = [];

/**
 * The arithmetic tests are about the bucket, not the deadline: they give Redis a second, so a busy 2-core machine
 * (or CI) cannot turn a slow answer into a false failure. The deadline has tests of its own below (50 ms).
 */
const ARITHMETIC_TIMEOUT_MS = 1000;

function limiterClient(url = REDIS_URL, commandTimeoutMs = ARITHMETIC_TIMEOUT_MS): Redis {
  const client = createRateLimitRedis({ url, commandTimeoutMs });
  clients.push(client);
  return client;
}
async function connected(client: Redis): Promise<Redis> {
  if (client.status !== 'ready')
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Redis not ready: ${client.status}`)), 5_000);
      client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  return client;
}
/** A limiter with a prefix of its own, on its own connection. */
async function freshLimiter(): Promise<{ limiter: RedisRateLimiter; prefix: string; client: Redis }> {
  const prefix = `${run}${prefixes++}:`;
  const client = await connected(limiterClient());
  return {
    limiter: new RedisRateLimiter(client, { keyPrefix: prefix, timeoutMs: ARITHMETIC_TIMEOUT_MS }),
    prefix,
    client,
  };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  if (!REDIS_URL) throw new Error('FAULTLINE_TEST_REDIS_URL is not set: run with --selectProjects integration');
});
afterAll(() => {
  for (const client of clients) client.disconnect();
});

describe('token bucket arithmetic (real script, real Redis)', () => {
  const oneASecond: BucketLimit = { capacity: 5, refillPerSecond: 1 };

  it('allows exactly `capacity` requests back to back, counting down; the next is limited', async () => {
    const { limiter } = await freshLimiter();
    const states = [];
    for (let i = 0; i < 6; i++) states.push(await limiter.take('alice:GET /v1/products', oneASecond));
    expect(states.map((s) => s.allowed)).toEqual([true, true, true, true, true, false]);
    expect(states.map((s) => s.remaining)).toEqual([4, 3, 2, 1, 0, 0]);
    expect(states.every((s) => s.limit === 5)).toBe(true);
    // At 1 token/s, after k tokens spent the bucket is full again in (just under) k seconds, rounded up: k.
    expect(states.slice(0, 5).map((s) => s.resetSeconds)).toEqual([1, 2, 3, 4, 5]);
    expect(states[5].resetSeconds).toBe(5);
    // Time until the next token: none while tokens are left; once the bucket is empty, (just under) one token's time
    // at 1 token/s, rounded up to 1 s — for the last allowed request and the refused one alike.
    expect(states.map((s) => s.retryAfterSeconds)).toEqual([0, 0, 0, 0, 1, 1]);
  });

  it('refills: after waiting the returned Retry-After, exactly one more request is allowed', async () => {
    const { limiter } = await freshLimiter();
    const limit: BucketLimit = { capacity: 2, refillPerSecond: 2 }; // one token every 500 ms
    await limiter.take('k', limit);
    await limiter.take('k', limit);
    const refused = await limiter.take('k', limit);
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 1 });
    await sleep(refused.retryAfterSeconds * 1000);
    // 1 s at 2 tokens/s refills two tokens (the bucket's capacity): two allowed, the third refused again.
    const after = [await limiter.take('k', limit), await limiter.take('k', limit), await limiter.take('k', limit)];
    expect(after.map((s) => s.allowed)).toEqual([true, true, false]);
    expect(after[0].remaining).toBe(1);
  });

  it('refill is fractional and never exceeds capacity', async () => {
    const { limiter } = await freshLimiter();
    const limit: BucketLimit = { capacity: 3, refillPerSecond: 10 }; // a token per 100 ms
    for (let i = 0; i < 3; i++) await limiter.take('k', limit);
    expect((await limiter.take('k', limit)).allowed).toBe(false);
    await sleep(1_000); // ten tokens' worth of time, but the bucket holds three
    const after = [];
    for (let i = 0; i < 4; i++) after.push(await limiter.take('k', limit));
    expect(after.map((s) => s.allowed)).toEqual([true, true, true, false]);
    expect(after.map((s) => s.remaining)).toEqual([2, 1, 0, 0]);
  });

  it('buckets are per key: another user or another route has its own', async () => {
    const { limiter } = await freshLimiter();
    const limit: BucketLimit = { capacity: 1, refillPerSecond: 1 / 60 };
    expect((await limiter.take('alice:GET /v1/orders', limit)).allowed).toBe(true);
    expect((await limiter.take('alice:GET /v1/orders', limit)).allowed).toBe(false);
    expect((await limiter.take('bob:GET /v1/orders', limit)).allowed).toBe(true);
    expect((await limiter.take('alice:POST /v1/orders', limit)).allowed).toBe(true);
  });

  it('a larger (paid-like) bucket allows more than a smaller (free-like) one, and says so in limit', async () => {
    const { limiter } = await freshLimiter();
    const count = async (key: string, limit: BucketLimit) => {
      let allowed = 0;
      for (let i = 0; i < 20; i++) if ((await limiter.take(key, limit)).allowed) allowed++;
      return allowed;
    };
    expect(await count('free', { capacity: 3, refillPerSecond: 1 / 60 })).toBe(3);
    expect(await count('paid', { capacity: 12, refillPerSecond: 1 / 60 })).toBe(12);
  });

  it('the key expires after the time to refill completely (idle bucket = full bucket)', async () => {
    const { limiter, prefix, client } = await freshLimiter();
    const limit: BucketLimit = { capacity: 4, refillPerSecond: 4 }; // full again 250 ms per token spent
    await limiter.take('k', limit);
    const ttl = await client.pttl(`${prefix}k`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(250);
    await limiter.take('k', limit);
    expect(await client.pttl(`${prefix}k`)).toBeLessThanOrEqual(500);
    await sleep(600);
    expect(await client.exists(`${prefix}k`)).toBe(0);
    expect((await limiter.take('k', limit)).remaining).toBe(3);
  });

  it('200 concurrent takes over two connections against capacity 20 let exactly 20 through', async () => {
    const a = await freshLimiter();
    const b = new RedisRateLimiter(await connected(limiterClient()), {
      keyPrefix: a.prefix,
      timeoutMs: ARITHMETIC_TIMEOUT_MS,
    });
    const limit: BucketLimit = { capacity: 20, refillPerSecond: 1 / 600 };
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? a.limiter : b).take('hot', limit)),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(20);
    // Every remaining count from 19 down to 0 was handed out exactly once.
    expect(
      results
        .filter((r) => r.allowed)
        .map((r) => r.remaining)
        .sort((x, y) => x - y),
    ).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});

describe('fail fast when Redis is slow or gone', () => {
  let blackhole: Server;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // Accepts connections and never answers: a Redis that hangs (or a network that drops replies).
    blackhole = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => blackhole.close(r));
  });

  it('a busy event loop does not turn Redis’s prompt answer into a timeout: the deadline measures Redis, not our queue', async () => {
    const client = await connected(limiterClient(REDIS_URL, 50));
    const limiter = new RedisRateLimiter(client, { keyPrefix: `${run}busy:`, timeoutMs: 50 });
    // Once with the loop free: Redis caches the script (a first EVALSHA costs a second round trip, EVAL).
    await limiter.take('k', { capacity: 10, refillPerSecond: 1 });
    for (let i = 0; i < 3; i++) {
      const taken = limiter.take('k', { capacity: 10, refillPerSecond: 1 });
      // 200 ms of synchronous work right after the command was written (a burst of RS256 verifications, say): the
      // 50 ms timer is due before the loop gets back to the socket, where Redis's answer has long been waiting.
      const until = performance.now() + 200;
      while (performance.now() < until);
      await expect(taken).resolves.toMatchObject({ allowed: true });
    }
  });

  it('a hanging Redis makes take() reject within about the command timeout', async () => {
    const port = (blackhole.address() as AddressInfo).port;
    const client = limiterClient(`redis://127.0.0.1:${port}`, 50);
    // Connected at TCP level, but the ready check never answers: commands are refused at once, or time out.
    await sleep(100);
    const limiter = new RedisRateLimiter(client, { keyPrefix: run, timeoutMs: 50 });
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await expect(limiter.take('k', { capacity: 1, refillPerSecond: 1 })).rejects.toThrow();
      // "Does not hang": a generous bound (a loaded CI machine is slow), far below ioredis' default of waiting forever.
      expect(performance.now() - started).toBeLessThan(500);
    }
  });

  it('a Redis that is not there makes take() reject at once (no offline queue, no retries)', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r)); // nothing listens there any more
    const limiter = new RedisRateLimiter(limiterClient(`redis://127.0.0.1:${port}`, 50), {
      keyPrefix: run,
      timeoutMs: 50,
    });
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await expect(limiter.take('k', { capacity: 1, refillPerSecond: 1 })).rejects.toThrow();
      expect(performance.now() - started).toBeLessThan(500);
    }
  });
});
