import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { RECOMMENDATIONS_CONFIG, type RecommendationsConfig } from './recommendations.config';

// Both keys share the hash tag {recs} so they live in one slot: the script stays atomic on a Redis Cluster too.
export const POPULARITY_KEY = 'recs:{recs}:popularity';
export const seenEventKey = (eventId: string) => `recs:{recs}:seen:${eventId}`;

/**
 * Atomic "record the event id, and only if it is new, add every item's quantity to its SKU's score". Redis runs a
 * script without interleaving any other command, so a redelivered event (or the same event consumed by two
 * instances at once) can never count twice, and a crash cannot leave the id recorded without the increments.
 *   KEYS[1] the event id key, KEYS[2] the popularity sorted set; ARGV[1] TTL seconds, then sku, quantity pairs.
 *   Returns 1 when applied, 0 when the event was already seen.
 */
export const RECORD_ORDER_SCRIPT = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
for i = 2, #ARGV, 2 do redis.call('ZINCRBY', KEYS[2], ARGV[i + 1], ARGV[i]) end
return 1`;

type RedisWithScript = Redis & {
  recordOrder(
    seenKey: string,
    popularityKey: string,
    ttlSeconds: number,
    ...skuQuantityPairs: (string | number)[]
  ): Promise<number>;
};

/** The popularity ranking: one sorted set in Redis (SKU → units confirmed), updated only through the script. */
@Injectable()
export class PopularityStore implements OnModuleInit, OnApplicationShutdown {
  private readonly redis: RedisWithScript;

  constructor(@Inject(RECOMMENDATIONS_CONFIG) private readonly config: RecommendationsConfig) {
    this.redis = new Redis(config.REDIS_URL, {
      // Fail a command fast while Redis is away instead of queueing it: the consumer retries with backoff, and a
      // GetRecommendations caller has its own deadline and a fallback.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 1000,
      retryStrategy: () => 500,
    }) as RedisWithScript;
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('recordOrder', { numberOfKeys: 2, lua: RECORD_ORDER_SCRIPT });
  }

  /**
   * Waits (at most 2 s) for the first connection, so the first request after start is not refused by the
   * no-offline-queue policy. Not fatal: readiness (/readyz) reports Redis, and the client keeps reconnecting.
   */
  async onModuleInit(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      this.redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** true when applied, false when this event id was already recorded (a redelivery: nothing changed). */
  async recordOrder(eventId: string, items: readonly { sku: string; quantity: number }[]): Promise<boolean> {
    const pairs = items.flatMap((item) => [item.sku, item.quantity]);
    return (
      (await this.redis.recordOrder(
        seenEventKey(eventId),
        POPULARITY_KEY,
        this.config.RECS_EVENT_ID_TTL_SECONDS,
        ...pairs,
      )) === 1
    );
  }

  /** The `limit` most popular SKUs, best first (ties: SKU descending, Redis's order for equal scores reversed). */
  async top(limit: number): Promise<{ sku: string; score: number }[]> {
    const flat = await this.redis.zrange(POPULARITY_KEY, 0, limit - 1, 'REV', 'WITHSCORES');
    const items: { sku: string; score: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) items.push({ sku: flat[i], score: Number(flat[i + 1]) });
    return items;
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis.disconnect();
  }
}
