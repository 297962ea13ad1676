import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@faultline/observability';
import { EventLoopLag, LoadShedder, RateAdmission } from '@faultline/resilience';
import { spanEvent } from '@faultline/tracing';
import { ProblemException } from '../errors/problem-details';
import { GATEWAY_CONFIG, GatewayConfig } from '../gateway.config';
import { RouteClass, routeClassOf } from './route-class';

/** The per-class in-flight limiters and their metrics: one per process (Nest may build a middleware more than once). */
@Injectable()
export class RouteLoadShedder {
  readonly shedder: LoadShedder<RouteClass>;
  readonly shed: Counter<'class' | 'reason'>;
  /** Absent when SHED_MAX_EVENT_LOOP_LAG_MS is 0. */
  readonly lag?: EventLoopLag;
  /** Absent when SHED_MAX_WRITES_PER_S is 0. */
  readonly writes?: RateAdmission;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, @Inject(METRICS_REGISTRY) registry: Registry) {
    this.shedder = new LoadShedder<RouteClass>({
      reads: config.SHED_MAX_IN_FLIGHT_READS,
      writes: config.SHED_MAX_IN_FLIGHT_WRITES,
      recommendations: config.SHED_MAX_IN_FLIGHT_RECOMMENDATIONS,
    });
    this.shed = new Counter({
      name: 'gateway_shed_requests_total',
      help: 'Requests answered 503 at once, by route class and reason: in_flight (the class at its bound), event_loop (the gateway itself late), rate (writes beyond the admission rate)',
      labelNames: ['class', 'reason'],
      registers: [registry],
    });
    if (config.SHED_MAX_EVENT_LOOP_LAG_MS > 0) this.lag = new EventLoopLag();
    if (config.SHED_MAX_WRITES_PER_S > 0)
      this.writes = new RateAdmission(config.SHED_MAX_WRITES_PER_S, config.SHED_WRITES_BURST);
    const shedder = this.shedder;
    // Zero from the start, so "nothing shed" is a series on the dashboards, not a missing one.
    for (const cls of shedder.classes())
      for (const reason of ['in_flight', 'event_loop', 'rate']) this.shed.inc({ class: cls, reason }, 0);
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
 * Bounds in-flight requests per route class and writes per second, and sheds everything while the gateway's own
 * event loop is late. A request over any bound is answered 503 + Retry-After at once, before authentication or any
 * dependency call: under overload the cheapest answer is the one that does no work, and a queue would only make every
 * request late. The slot is released when the response finishes or the client leaves.
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
    const late = this.limits.lag !== undefined && this.limits.lag.sustainedMs > this.config.SHED_MAX_EVENT_LOOP_LAG_MS;
    const overRate = !late && cls === 'writes' && this.limits.writes !== undefined && !this.limits.writes.tryAdmit();
    const release = late || overRate ? undefined : this.limits.shedder.tryAcquire(cls);
    if (!release) {
      const reason = late ? 'event_loop' : overRate ? 'rate' : 'in_flight';
      this.limits.shed.inc({ class: cls, reason });
      spanEvent('load.shed', { 'route.class': cls, 'shed.reason': reason });
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
