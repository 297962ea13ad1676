import { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { Observable, tap } from 'rxjs';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Latency buckets in seconds: the same scale as HTTP, so both sides of a call compare on one heatmap. */
const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** gRPC status names by number (grpc-js `status`), so `grpc_code` reads `NOT_FOUND`, not `5`. */
const CODE_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

type Labels = 'grpc_service' | 'grpc_method';

/**
 * gRPC server golden signals per method, with the names and labels of go-grpc-prometheus (what dashboards and
 * engineers already know): handled calls by status, handling latency, calls in flight. Service and method come from
 * the call's path (`/faultline.orders.v1.OrdersService/PlaceOrder`), a fixed set: only registered methods reach here.
 */
export class GrpcServerMetrics {
  readonly handled: Counter<Labels | 'grpc_code'>;
  readonly handling: Histogram<Labels | 'grpc_code'>;
  readonly inFlight: Gauge<Labels>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.handled = new Counter({
      name: 'grpc_server_handled_total',
      help: 'gRPC calls completed by the server, by service, method and status code',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
      registers,
    });
    this.handling = new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'gRPC server handling latency, by service, method and status code',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.inFlight = new Gauge({
      name: 'grpc_server_calls_in_flight',
      help: 'gRPC calls the server is handling',
      labelNames: ['grpc_service', 'grpc_method'],
      registers,
    });
  }
}

/**
 * The status name of an error that carries a gRPC code (a number, or a name such as DomainError's); else `fallback`.
 */
export function grpcCodeName(error: unknown, fallback = 'UNKNOWN'): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && CODE_NAMES[code]) return CODE_NAMES[code];
  if (typeof code === 'string' && CODE_NAMES.includes(code)) return code;
  return fallback;
}

/** `/pkg.Service/Method` → labels; anything unexpected is `unknown`, so labels stay bounded. */
export function grpcMethodLabels(path: unknown): { grpc_service: string; grpc_method: string } {
  const match = typeof path === 'string' ? /^\/([\w.]+)\/(\w+)$/.exec(path) : null;
  return match
    ? { grpc_service: match[1], grpc_method: match[2] }
    : { grpc_service: 'unknown', grpc_method: 'unknown' };
}

/**
 * Records every unary gRPC call. Registered on the gRPC microservice itself (libs/bootstrap): the HTTP app's global
 * interceptors do not reach microservices. Exception filters run outside interceptors, so an error seen here is not
 * yet mapped to a status: `codeOf` applies the same mapping the service's filter does.
 */
export class GrpcMetricsInterceptor implements NestInterceptor {
  constructor(
    private readonly metrics: GrpcServerMetrics,
    private readonly codeOf: (error: unknown) => string = grpcCodeName,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const call = context.getArgByIndex<{ getPath?: () => string } | undefined>(2);
    const labels = grpcMethodLabels(call?.getPath?.());
    this.metrics.inFlight.inc(labels);
    const stop = this.metrics.handling.startTimer();
    const done = (grpc_code: string) => {
      this.metrics.inFlight.dec(labels);
      this.metrics.handled.inc({ ...labels, grpc_code });
      stop({ ...labels, grpc_code });
    };
    return next.handle().pipe(
      tap({
        complete: () => done('OK'),
        error: (error: unknown) => done(this.codeOf(error)),
      }),
    );
  }
}
