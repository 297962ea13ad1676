import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/**
 * How often the event-loop lag histogram (nodejs_eventloop_lag_*) samples the loop. prom-client's default, 10 ms,
 * wakes an idle process 100 times a second, most of an idle service's CPU; at 100 ms a lag that matters (a saturated
 * or blocked loop, tens of ms and more) still shows, an idle service sleeps.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * One registry per process, labelled with the service name, with Node's process metrics (CPU, memory, event-loop
 * lag, handles) collected from the start: saturation is a golden signal too.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  return registry;
}

/** Latency buckets in seconds, from a fast cache hit (2 ms) to a blown 10 s deadline. */
const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * HTTP golden signals: traffic and errors (requests by route and status class), latency (histogram) and saturation
 * (in-flight requests). Routes are Express route templates (`/v1/orders/:id`), never raw paths, so label values stay
 * bounded; a request that matched no route is counted under `unmatched`. A singleton provider: Nest may create the
 * middleware more than once (hybrid HTTP + gRPC apps), and a metric can be registered only once.
 */
@Injectable()
export class HttpMetrics {
  readonly requests: Counter<'method' | 'route' | 'status_class'>;
  readonly duration: Histogram<'method' | 'route' | 'status_class'>;
  readonly inFlight: Gauge;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const labelNames = ['method', 'route', 'status_class'] as const;
    this.requests = new Counter({
      name: 'http_server_requests_total',
      help: 'HTTP requests completed',
      labelNames,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.inFlight = new Gauge({
      name: 'http_server_requests_in_flight',
      help: 'HTTP requests being served',
      registers: [registry],
    });
  }
}

@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: HttpMetrics) {}

  use(req: Request, res: Response, next: NextFunction) {
    const stop = this.metrics.duration.startTimer();
    this.metrics.inFlight.inc();
    res.on('close', () => {
      this.metrics.inFlight.dec();
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      const labels = { method: req.method, route, status_class: `${Math.floor(res.statusCode / 100)}xx` };
      this.metrics.requests.inc(labels);
      stop(labels);
    });
    next();
  }
}
