import { DynamicModule, Inject, Injectable, Module, OnModuleDestroy } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type Redis from 'ioredis';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@faultline/observability';
import { createRateLimitRedis, RateLimitMetrics, RedisRateLimiter } from '@faultline/rate-limit';
import { RATE_LIMIT_CONFIG, RateLimitInterceptor } from './rate-limit.interceptor';
import type { RateLimitConfig } from './rate-limit.config';

const RATE_LIMIT_REDIS = Symbol('RATE_LIMIT_REDIS');

/** Closes the limiter's Redis connection on shutdown. */
@Injectable()
class RateLimitRedisCloser implements OnModuleDestroy {
  constructor(@Inject(RATE_LIMIT_REDIS) private readonly redis: Redis) {}

  onModuleDestroy() {
    this.redis.disconnect();
  }
}

/**
 * The gateway's rate limiting: import `RateLimitModule.forRoot(config)` once in GatewayModule; it registers its
 * interceptor globally (APP_INTERCEPTOR) and owns its own fail-fast Redis client.
 */
@Module({})
export class RateLimitModule {
  static forRoot(config: RateLimitConfig & { REDIS_URL: string }): DynamicModule {
    return {
      module: RateLimitModule,
      providers: [
        { provide: RATE_LIMIT_CONFIG, useValue: config },
        {
          provide: RATE_LIMIT_REDIS,
          useFactory: () =>
            createRateLimitRedis({
              url: config.RATE_LIMIT_REDIS_URL ?? config.REDIS_URL,
              commandTimeoutMs: config.RATE_LIMIT_REDIS_TIMEOUT_MS,
            }),
        },
        {
          provide: RedisRateLimiter,
          inject: [RATE_LIMIT_REDIS],
          useFactory: (redis: Redis) => new RedisRateLimiter(redis, { timeoutMs: config.RATE_LIMIT_REDIS_TIMEOUT_MS }),
        },
        {
          provide: RateLimitMetrics,
          inject: [METRICS_REGISTRY],
          useFactory: (registry: Registry) => new RateLimitMetrics(registry),
        },
        RateLimitRedisCloser,
        { provide: APP_INTERCEPTOR, useClass: RateLimitInterceptor },
      ],
    };
  }
}
