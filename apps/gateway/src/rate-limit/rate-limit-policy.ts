import type { BucketLimit, FailurePolicy } from '@faultline/rate-limit';
import type { Caller } from '../auth/route-access';
import type { RateLimitConfig } from './rate-limit.config';

export type RouteClass = 'read' | 'write';

/** A limited route: its id (`GET /v1/orders/:id`, the metric label and part of the bucket key) and its class. */
export interface LimitedRoute {
  id: string;
  routeClass: RouteClass;
}

/**
 * The route of a request as Express matched it (a template, so label values and keys stay bounded), or undefined
 * when the request is not one the limiter covers (anything outside /v1). HEAD is served by the GET handler and
 * shares its bucket.
 */
export function limitedRoute(method: string, baseUrl: string, routePath: string | undefined): LimitedRoute | undefined {
  if (routePath === undefined) return undefined;
  const template = `${baseUrl}${routePath}`;
  if (!template.startsWith('/v1/')) return undefined;
  const verb = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  return { id: `${verb} ${template}`, routeClass: verb === 'GET' ? 'read' : 'write' };
}

/** The bucket of a tier and route class, from config (per minute → per second). */
export function bucketLimit(config: RateLimitConfig, tier: Caller['tier'], routeClass: RouteClass): BucketLimit {
  const [burst, perMinute] =
    tier === 'paid'
      ? routeClass === 'read'
        ? [config.RATE_LIMIT_PAID_READ_BURST, config.RATE_LIMIT_PAID_READ_PER_MINUTE]
        : [config.RATE_LIMIT_PAID_WRITE_BURST, config.RATE_LIMIT_PAID_WRITE_PER_MINUTE]
      : routeClass === 'read'
        ? [config.RATE_LIMIT_FREE_READ_BURST, config.RATE_LIMIT_FREE_READ_PER_MINUTE]
        : [config.RATE_LIMIT_FREE_WRITE_BURST, config.RATE_LIMIT_FREE_WRITE_PER_MINUTE];
  return { capacity: burst, refillPerSecond: perMinute / 60 };
}

/** What a route does when Redis cannot answer: its own entry if configured, else its class's default. */
export function failurePolicy(config: RateLimitConfig, route: LimitedRoute): FailurePolicy {
  return (
    config.RATE_LIMIT_ROUTE_FAILURE_POLICIES[route.id] ??
    (route.routeClass === 'read' ? config.RATE_LIMIT_READ_FAILURE_POLICY : config.RATE_LIMIT_WRITE_FAILURE_POLICY)
  );
}

/** The bucket key of (user, route). The user id is escaped so no `sub` can collide with another user's key. */
export function bucketKey(customerId: string, route: LimitedRoute): string {
  return `${encodeURIComponent(customerId)}:${route.id}`;
}
