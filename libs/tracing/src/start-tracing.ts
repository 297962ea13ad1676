// The OpenTelemetry SDK, assembled from its parts rather than through @opentelemetry/sdk-node: sdk-node loads log and
// metric exporters (and @grpc/grpc-js with them) before it registers the instrumentations, and would export to
// localhost:4318 by default. Here nothing but http is loaded before the instrumentations are enabled, and nothing is
// exported unless OTEL_EXPORTER_OTLP_ENDPOINT says where.
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { BatchSpanProcessor, NoopSpanProcessor, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { tracingResource } from './tracing-resource';

/** Probes and scrapes every few seconds would bury the traces users look for. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export interface TracingHandle {
  readonly serviceName: string;
  /** Where spans go, or undefined when they are only recorded (context still propagates). */
  readonly endpoint: string | undefined;
  /** Flushes what is buffered; called on graceful shutdown so the last spans of a stopping service are not lost. */
  shutdown(): Promise<void>;
}

let started: TracingHandle | undefined;

/**
 * Starts tracing for this process, once (later calls return the first handle). `OTEL_SERVICE_NAME` wins over the
 * given name, so two processes of one app (the two outbox relays) can tell themselves apart.
 */
export function startTracing(defaultServiceName: string, env: NodeJS.ProcessEnv = process.env): TracingHandle {
  if (started) return started;
  const serviceName = env['OTEL_SERVICE_NAME']?.trim() || defaultServiceName;
  const endpoint = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim() || undefined;

  const processor: SpanProcessor = endpoint
    ? new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` }),
        // Short, so `lab trace` and the tests see an order's spans about a second after it happened.
        scheduledDelayMillis: 1000,
      })
    : new NoopSpanProcessor();
  const provider = new TracerProvider({
    resource: tracingResource(serviceName, env),
    spanProcessors: [processor],
  });
  const contextManager = new AsyncLocalStorageContextManager();
  contextManager.enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);

  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0]),
      }),
      // One span per Nest middleware (body parsers, CORS…) buries the spans that matter; route handlers stay.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      new GrpcInstrumentation({
        // The gRPC health checks are probes too.
        ignoreGrpcMethods: ['Check', 'Watch'],
      }),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new KafkaJsInstrumentation(),
    ],
  });

  started = {
    serviceName,
    endpoint,
    shutdown: () => provider.shutdown(),
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void provider.forceFlush().catch(() => undefined));
  }
  return started;
}
