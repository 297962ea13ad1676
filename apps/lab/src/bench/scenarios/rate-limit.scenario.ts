// What the rate limiter adds to a request: one take() (one EVALSHA of the token-bucket script, the code the gateway
// runs) vs a raw Redis round trip (PING), on the bench lab's Redis, one connection each. Latency sequentially;
// decisions/s with 32 requests in flight. Buckets are large, so every take is allowed (the full-work path). PINGs and
// takes alternate in slices, so both see the same machine: 100 of them for latency (a slice lasts a few tens of ms,
// shorter than the hiccups that make a p99), 10 for throughput (32 in flight ramp up and down at each slice's ends).
import Redis from 'ioredis';
import { createRateLimitRedis, RedisRateLimiter } from '@faultline/rate-limit';
import { redisUrl } from '../../infra/infra';
import { closedLoop, interleaved } from '../bench-load';
import type { BenchSample } from '../bench-stats';
import { sampleOf, Scenario, ScenarioContext } from './scenario';

const IN_FLIGHT = 32;
const LATENCY_SLICES = 100;
const RATE_SLICES = 10;
const LIMIT = { capacity: 1_000_000, refillPerSecond: 1000 };

export function rateLimitScenario({ lab, settings, progress }: ScenarioContext): Scenario {
  const sample = sampleOf('rate-limit');
  const prefix = `rl-bench:${Date.now().toString(36)}:`;
  let raw: Redis;
  let limiterRedis: Redis;
  let limiter: RedisRateLimiter;

  const ping = () => raw.ping();
  const take = (i: number) => limiter.take(`user-${i % 1000}:GET /v1/products/:sku`, LIMIT);
  const latencySlice = Math.max(1, Math.round(settings.redisOps / LATENCY_SLICES));
  const rateSlice = Math.max(1, Math.round(settings.redisOps / RATE_SLICES));

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
      progress.step(
        'rate-limit',
        `${settings.redisOps} PINGs and ${settings.redisOps} limiter decisions, sequential then ${IN_FLIGHT} in flight, alternating`,
      );
      await closedLoop({ limit: 200, workers: 1 }, ping); // warm-up
      await closedLoop({ limit: 200, workers: 1 }, take);
      const [pingLatency, takeLatency] = await interleaved(
        LATENCY_SLICES,
        () => closedLoop({ limit: latencySlice, workers: 1 }, ping),
        () => closedLoop({ limit: latencySlice, workers: 1 }, take),
      );
      const [pingRate, takeRate] = await interleaved(
        RATE_SLICES,
        () => closedLoop({ limit: rateSlice, workers: IN_FLIGHT }, ping),
        () => closedLoop({ limit: rateSlice, workers: IN_FLIGHT }, take),
      );
      const us = 1000;
      return [
        sample(
          'p50',
          'limiter decision p50 (added latency per request)',
          'µs',
          takeLatency.p50 * us,
          'Redis PING p50',
          pingLatency.p50 * us,
        ),
        sample(
          'p99',
          'limiter decision p99 (added latency per request)',
          'µs',
          takeLatency.p99 * us,
          'Redis PING p99',
          pingLatency.p99 * us,
        ),
        sample(
          'decisions',
          `limiter decisions/s, ${IN_FLIGHT} in flight on one connection`,
          'ops/s',
          takeRate.perSecond,
          'Redis PINGs/s',
          pingRate.perSecond,
        ),
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
