// What the rate limiter adds to a request, measured against a raw Redis round trip in the same run (not a test).
//
//   npm run build && node libs/rate-limit/bench/limiter.bench.ts [redis://127.0.0.1:17379] [requests=5000] [concurrency=32]
//
// Node 24 runs this file directly (type stripping); the limiter comes from the build (dist/), exactly the code the
// gateway runs. It measures, on one connection each, sequentially (latency) and
// with `concurrency` requests in flight (throughput): PING, GET of a missing key, and the limiter's take() (one
// EVALSHA of the token-bucket script), then prints the ratios limiter / raw.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Redis from 'ioredis';
import type * as RateLimitLib from '../src/index';

// Run from the repository root; the compiled library is loaded as CommonJS, as the gateway loads it.
const load = createRequire(join(process.cwd(), 'package.json'));
const { createRateLimitRedis, RedisRateLimiter } = load('./dist/libs/rate-limit/src/index.js') as typeof RateLimitLib;

const [url = 'redis://127.0.0.1:17379', requestsArg = '5000', concurrencyArg = '32'] = process.argv.slice(2);
const requests = Number(requestsArg);
const concurrency = Number(concurrencyArg);
const prefix = `rl-bench:${Date.now().toString(36)}:`;

interface Result {
  name: string;
  p50: number;
  p99: number;
  mean: number;
  perSecond: number;
}

async function measure(name: string, op: (i: number) => Promise<unknown>): Promise<Result> {
  for (let i = 0; i < 500; i++) await op(i); // warm-up: connection, script cache, JIT
  const latencies: number[] = [];
  for (let i = 0; i < requests; i++) {
    const started = process.hrtime.bigint();
    await op(i);
    latencies.push(Number(process.hrtime.bigint() - started) / 1e3);
  }
  latencies.sort((a, b) => a - b);
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests) await op(next++);
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    name,
    p50: latencies[Math.floor(latencies.length * 0.5)],
    p99: latencies[Math.floor(latencies.length * 0.99)],
    mean: latencies.reduce((a, b) => a + b, 0) / latencies.length,
    perSecond: requests / seconds,
  };
}

async function main() {
  const raw = new Redis(url, { lazyConnect: true });
  await raw.connect();
  const limiterRedis = createRateLimitRedis({ url, commandTimeoutMs: 1000 });
  await new Promise((resolve) => limiterRedis.once('ready', resolve));
  const limiter = new RedisRateLimiter(limiterRedis, { keyPrefix: prefix, timeoutMs: 1000 });
  const version = (await raw.info('server')).match(/redis_version:(\S+)/)?.[1];
  // 1000 users × one route, buckets big enough that every take is allowed (the common, full-work path).
  const limit = { capacity: 1_000_000, refillPerSecond: 1000 };

  const ping = await measure('PING', () => raw.ping());
  const get = await measure('GET (missing key)', (i) => raw.get(`${prefix}none:${i % 1000}`));
  const take = await measure('limiter take()', (i) => limiter.take(`user-${i % 1000}:GET /v1/products/:sku`, limit));

  const fmt = (n: number) => n.toFixed(1).padStart(8);
  console.log(`Redis ${version} at ${url}; ${requests} requests per measurement, throughput with ${concurrency} in flight, node ${process.version}`);
  console.log(`${'operation'.padEnd(20)} ${'p50 µs'.padStart(8)} ${'p99 µs'.padStart(8)} ${'mean µs'.padStart(8)} ${'ops/s'.padStart(9)}`);
  for (const r of [ping, get, take]) console.log(`${r.name.padEnd(20)} ${fmt(r.p50)} ${fmt(r.p99)} ${fmt(r.mean)} ${r.perSecond.toFixed(0).padStart(9)}`);
  console.log(
    `limiter vs PING: latency ×${(take.p50 / ping.p50).toFixed(2)} (p50), ×${(take.p99 / ping.p99).toFixed(2)} (p99); ` +
      `throughput ×${(take.perSecond / ping.perSecond).toFixed(2)}`,
  );
  console.log(
    `limiter vs GET:  latency ×${(take.p50 / get.p50).toFixed(2)} (p50), ×${(take.p99 / get.p99).toFixed(2)} (p99); ` +
      `throughput ×${(take.perSecond / get.perSecond).toFixed(2)}`,
  );
  console.log(`added latency per request (limiter p50 / p99): ${(take.p50 / 1000).toFixed(3)} ms / ${(take.p99 / 1000).toFixed(3)} ms; decisions/s on one connection: ${take.perSecond.toFixed(0)}`);

  const keys = await raw.keys(`${prefix}*`);
  if (keys.length) await raw.del(...keys);
  raw.disconnect();
  limiterRedis.disconnect();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
