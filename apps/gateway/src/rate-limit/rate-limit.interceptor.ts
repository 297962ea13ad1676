import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';
import { LOGGER, type Logger } from '@faultline/observability';
import { decide, RateLimitMetrics, rateLimitHeaders, RedisRateLimiter } from '@faultline/rate-limit';
import { spanEvent } from '@faultline/tracing';
import { ProblemException } from '../errors/problem-details';
import { callerOf } from './rate-limit-caller';
import { bucketKey, bucketLimit, failurePolicy, limitedRoute } from './rate-limit-policy';
import type { RateLimitConfig } from './rate-limit.config';

export const RATE_LIMIT_CONFIG = Symbol('RATE_LIMIT_CONFIG');

/**
 * Rate limiting on every /v1 route (docs/architecture.md, "Public REST contract"). An interceptor, so it runs after
 * every guard: the JWT guard has established the caller (the bucket is per user) and unauthenticated or forbidden
 * requests never spend a token. One limiter call per request, i.e. at most one Redis round trip. The RateLimit-*
 * headers are set before the handler runs, so they are on every answer of the route, errors included.
 */
@Injectable()
export class RateLimitInterceptor implements NestInterceptor {
  constructor(
    @Inject(RATE_LIMIT_CONFIG) private readonly config: RateLimitConfig,
    private readonly limiter: RedisRateLimiter,
    private readonly metrics: RateLimitMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<Request>();
    const route = limitedRoute(req.method, req.baseUrl, (req.route as { path?: string } | undefined)?.path);
    if (!route) return next.handle();

    const caller = callerOf(context);
    const started = performance.now();
    const decision = await decide(
      this.limiter,
      bucketKey(caller.customerId, route),
      bucketLimit(this.config, caller.tier, route.routeClass),
      failurePolicy(this.config, route),
    );
    this.metrics.record(route.id, decision.kind, (performance.now() - started) / 1000);
    spanEvent('rate_limit.decision', { 'rate_limit.route': route.id, 'rate_limit.decision': decision.kind });

    if ('state' in decision) {
      const res = context.switchToHttp().getResponse<Response>();
      const { 'Retry-After': retryAfter, ...rateLimit } = rateLimitHeaders(decision.state);
      for (const [name, value] of Object.entries(rateLimit)) res.setHeader(name, value);
      if (decision.kind === 'limited') {
        throw new ProblemException('tooManyRequests', {
          detail: `Rate limit of ${route.id} exceeded for this user; retry after ${retryAfter} s.`,
          headers: { 'Retry-After': retryAfter },
        });
      }
      return next.handle();
    }

    const log = (req as Request & { log?: Logger }).log ?? this.logger;
    const reason = decision.error instanceof Error ? decision.error.message : String(decision.error);
    if (decision.kind === 'fail_open') {
      log.warn({ route: route.id, reason }, 'rate limiter unavailable: request let through (fail-open)');
      return next.handle();
    }
    log.warn({ route: route.id, reason }, 'rate limiter unavailable: request refused (fail-closed)');
    throw new ProblemException('unavailable', {
      detail: 'The rate limiter is unavailable and this route does not run unlimited; retry shortly.',
      headers: { 'Retry-After': String(this.config.RATE_LIMIT_FAIL_CLOSED_RETRY_AFTER_SECONDS) },
    });
  }
}
