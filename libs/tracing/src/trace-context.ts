// Helpers over @opentelemetry/api only: cheap to import anywhere, no-ops when tracing was not started.
import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';

export const TRACER_NAME = '@faultline/tracing';

/** The attribute that lets `lab trace <order-id>` (and Jaeger's tag search) find an order's trace. */
export const ATTR_ORDER_ID = 'order.id';

/** The W3C `traceparent` of the active span, or undefined when none is active (what an outbox row stores). */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  const span = trace.getSpan(ctx);
  if (!span || !isSpanContextValid(span.spanContext())) return undefined;
  propagation.inject(ctx, carrier);
  return carrier['traceparent'];
}

/** The trace and span id of the active span, for log lines; undefined when none is active. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const spanContext = span.spanContext();
  return isSpanContextValid(spanContext) ? { traceId: spanContext.traceId, spanId: spanContext.spanId } : undefined;
}

/** The context a stored or received `traceparent` names (the root context when it is absent or malformed). */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** Adds attributes to the active span, if any (e.g. `order.id` once it is known). */
export function setSpanAttributes(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** Records a decision (breaker rejection, fallback, rate-limit verdict, replay, duplicate) on the active span. */
export function spanEvent(name: string, attributes?: Attributes): void {
  trace.getActiveSpan()?.addEvent(name, attributes);
}

/**
 * Runs `work` in a new span. `parent` defaults to the active context; pass `contextFromTraceparent(...)` to continue
 * a trace that arrived in a header or an outbox row. The span ends when `work` settles, with an error status if it
 * threw.
 */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; parent?: Context },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const tracer = trace.getTracer(TRACER_NAME);
  const span = tracer.startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes },
    options.parent ?? context.active(),
  );
  try {
    return await context.with(trace.setSpan(options.parent ?? context.active(), span), () => work(span));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

export { SpanKind, SpanStatusCode };

/**
 * Runs `work` with instrumentation suppressed. The kafkajs instrumentation parents every message of a batch on the
 * caller's context and overwrites its `traceparent`; the event producer makes its own span per message (each on its
 * own outbox row's trace) and sends the batch through here so its headers stay as it set them.
 */
export function withoutInstrumentation<T>(work: () => Promise<T>): Promise<T> {
  return context.with(suppressTracing(context.active()), work);
}
