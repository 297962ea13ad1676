import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@faultline/observability';
import { LoadShedder } from '@faultline/resilience';
import { spanEvent } from '@faultline/tracing';
import { ProblemException } from '../errors/problem-details';
import { GATEWAY_CONFIG, GatewayConfig } from '../gateway.config';
import { RouteClass, routeClassOf } from './route-class';

/** The per-class in-flight limiters and their metrics: one per process (Nest may build a middleware more than once). */
@Injectable()
export class RouteLoadShedder {
  readonly shedder: LoadShedder<RouteClass>;
  readonly shed: Counter<'class'>;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, @Inject(METRICS_REGISTRY) registry: Registry) {
    this.shedder = new LoadShedder<RouteClass>({
      reads: config.SHED_MAX_IN_FLIGHT_READS,
      writes: config.SHED_MAX_IN_FLIGHT_WRITES,
      recommendations: config.SHED_MAX_IN_FLIGHT_RECOMMENDATIONS,
    });
    this.shed = new Counter({
      name: 'gateway_shed_requests_total',
      help: 'Requests answered 503 at once because their route class was at its in-flight bound',
      labelNames: ['class'],
      registers: [registry],
    });
    const shedder = this.shedder;
    // Zero from the start, so "nothing shed" is a series on the dashboards, not a missing one.
    for (const cls of shedder.classes()) this.shed.inc({ class: cls }, 0);
    new Gauge({
      name: 'gateway_in_flight_requests',
      help: 'Requests in flight per route class (the load-shedding bound applies to this)',
      labelNames: ['class'],
      registers: [registry],
      collect() {
        for (const cls of shedder.classes()) this.set({ class: cls }, shedder.inFlight(cls));
      },
    });
  }
}

/**
 * Bounds in-flight requests per route class. A request over the bound is answered 503 + Retry-After at once, before
 * authentication or any dependency call: under overload the cheapest answer is the one that does no work, and a
 * queue would only make every request late. The slot is released when the response finishes or the client leaves.
 */
@Injectable()
export class LoadSheddingMiddleware implements NestMiddleware {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly limits: RouteLoadShedder,
  ) {}

  use(req: Request, res: Response, next: NextFunction) {
    const cls = routeClassOf(req.method, req.baseUrl + req.path);
    if (!cls) return next();
    const release = this.limits.shedder.tryAcquire(cls);
    if (!release) {
      this.limits.shed.inc({ class: cls });
      spanEvent('load.shed', { 'route.class': cls });
      throw new ProblemException('unavailable', {
        detail: 'The gateway is at capacity for this kind of request; retry after the Retry-After delay.',
        headers: { 'Retry-After': String(this.config.SHED_RETRY_AFTER_SECONDS) },
      });
    }
    res.once('finish', release);
    res.once('close', release);
    next();
  }
}
