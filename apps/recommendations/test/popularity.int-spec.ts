// The popularity store's script against the shared test lab's real Redis: an event counts exactly once, even when
// redelivered or delivered to two consumers at the same instant.
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { PopularityStore, POPULARITY_KEY, seenEventKey } from '../src/popularity.store';
import { recommendationsConfigSchema } from '../src/recommendations.config';

// Database 9 of the shared test Redis: this suite owns its keys and may wipe them.
const url = (() => {
  const u = new URL(process.env['FAULTLINE_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:17379');
  u.pathname = '/9';
  return u.toString();
})();
const config = recommendationsConfigSchema.parse({ REDIS_URL: url, KAFKA_BROKERS: '127.0.0.1:1' });
let store: PopularityStore;
let redis: Redis;

beforeAll(async () => {
  redis = new Redis(url);
  await redis.del(POPULARITY_KEY);
  store = new PopularityStore(config);
  await store.onModuleInit();
});

afterAll(async () => {
  await store.onApplicationShutdown();
  redis.disconnect();
});

describe('PopularityStore', () => {
  it('adds each item once per event id; a redelivery changes nothing', async () => {
    const eventId = randomUUID();
    expect(
      await store.recordOrder(eventId, [
        { sku: 'SKU-0001', quantity: 3 },
        { sku: 'SKU-0002', quantity: 1 },
      ]),
    ).toBe(true);
    expect(
      await store.recordOrder(eventId, [
        { sku: 'SKU-0001', quantity: 3 },
        { sku: 'SKU-0002', quantity: 1 },
      ]),
    ).toBe(false);
    expect(await store.top(5)).toEqual([
      { sku: 'SKU-0001', score: 3 },
      { sku: 'SKU-0002', score: 1 },
    ]);
    const ttl = await redis.ttl(seenEventKey(eventId));
    expect(ttl).toBeGreaterThan(7 * 86_400);
  });

  it('counts an event delivered 20 times concurrently exactly once', async () => {
    const eventId = randomUUID();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => store.recordOrder(eventId, [{ sku: 'SKU-0003', quantity: 10 }])),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    expect(await redis.zscore(POPULARITY_KEY, 'SKU-0003')).toBe('10');
  });

  it('answers the top N, best first', async () => {
    await store.recordOrder(randomUUID(), [{ sku: 'SKU-0004', quantity: 50 }]);
    expect((await store.top(2)).map((i) => i.sku)).toEqual(['SKU-0004', 'SKU-0003']);
  });
});
