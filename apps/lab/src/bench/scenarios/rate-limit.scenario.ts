// What the rate limiter adds to a request: one take() (one EVALSHA of the token-bucket script, the code the gateway
// runs) vs a raw Redis round trip (PING), on the bench lab's Redis, one connection each. Latency sequentially;
// decisions/s with 32 requests in flight. Buckets are large, so every take is allowed (the full-work path).
import Redis from 'ioredis';
import { createRateLimitRedis, RedisRateLimiter } from '@faultline/rate-limit';
import { redisUrl } from '../../infra/infra';
import { closedLoop, LoopResult } from '../bench-load';
import type { BenchSample } from '../bench-stats';
import { sampleOf, Scenario, ScenarioContext } from './scenario';

const IN_FLIGHT = 32;
const LIMIT = { capacity: 1_000_000, refillPerSecond: 1000 };

export function rateLimitScenario({ lab, settings, progress }: ScenarioContext): Scenario {
  const sample = sampleOf('rate-limit');
  const prefix = `rl-bench:${Date.now().toString(36)}:`;
  let raw: Redis;
  let limiterRedis: Redis;
  let limiter: RedisRateLimiter;

  /** Sequential latency (ms) and throughput with IN_FLIGHT requests outstanding, after a warm-up. */
  const measure = async (op: (i: number) => Promise<unknown>): Promise<{ latency: LoopResult; throughput: LoopResult }> => {
    await closedLoop({ limit: 200, workers: 1 }, op);
    const latency = await closedLoop({ limit: settings.redisOps, workers: 1 }, op);
    const throughput = await closedLoop({ limit: settings.redisOps, workers: IN_FLIGHT }, op);
    return { latency, throughput };
  };

  return {
    area: 'rate-limit',
    async setup() {
      raw = new Redis(redisUrl(lab.layout), { lazyConnect: true });
      await raw.connect();
      limiterRedis = createRateLimitRedis({ url: redisUrl(lab.layout), commandTimeoutMs: 1000 });
      await new Promise((resolve) => limiterRedis.once('ready', resolve));
      limiter = new RedisRateLimiter(limiterRedis, { keyPrefix: prefix, timeoutMs: 1000 });
    },
    async run(): Promise<BenchSample[]> {
      progress.step('rate-limit', `${settings.redisOps} PINGs and ${settings.redisOps} limiter decisions, sequential then ${IN_FLIGHT} in flight`);
      const ping = await measure(() => raw.ping());
      const take = await measure((i) => limiter.take(`user-${i % 1000}:GET /v1/products/:sku`, LIMIT));
      const us = 1000;
      return [
        sample('p50', 'limiter decision p50 (added latency per request)', 'µs', take.latency.p50 * us, 'Redis PING p50', ping.latency.p50 * us),
        sample('p99', 'limiter decision p99 (added latency per request)', 'µs', take.latency.p99 * us, 'Redis PING p99', ping.latency.p99 * us),
        sample('decisions', `limiter decisions/s, ${IN_FLIGHT} in flight on one connection`, 'ops/s', take.throughput.perSecond, 'Redis PINGs/s', ping.throughput.perSecond),
      ];
    },
    async teardown() {
      const keys = await raw.keys(`${prefix}*`);
      if (keys.length) await raw.del(...keys);
      raw.disconnect();
      limiterRedis.disconnect();
    },
  };
}
