import { randomBytes } from 'node:crypto';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { Request, Response } from 'express';

// W3C Trace Context, version 00: version-traceid-parentid-flags, lower-case hex; all-zero ids are invalid.
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

export interface TraceContext {
  traceId: string;
  /** The gateway's own span id for this request (what a downstream call would name as its parent). */
  spanId: string;
  flags: string;
}

/** The trace id of a valid incoming `traceparent`, else undefined (an invalid header is ignored, per the spec). */
export function parseTraceparent(header: string | undefined): { traceId: string; flags: string } | undefined {
  if (!header) return undefined;
  const match = TRACEPARENT.exec(header.trim());
  if (!match || match[1] === ZERO_TRACE_ID || match[2] === ZERO_SPAN_ID) return undefined;
  return { traceId: match[1], flags: match[3] };
}

export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.flags}`;
}

const TRACE_CONTEXT = Symbol('traceContext');
type WithTraceContext = Request & { [TRACE_CONTEXT]?: TraceContext };

/**
 * The request's trace context, created once: the caller's trace id when its `traceparent` is valid, else a fresh
 * random one when no span is active. Also sets the `traceparent` response header, so the caller can quote
 * it. Called by TraceContextMiddleware and, for requests that failed before any middleware ran (a malformed JSON
 * body), by the problem filter.
 */
export function traceContextOf(req: Request, res: Response): TraceContext {
  const holder = req as WithTraceContext;
  if (!holder[TRACE_CONTEXT]) {
    // The HTTP server span OpenTelemetry started for this request (it already continued a valid incoming
    // traceparent); the random fallback only serves processes without tracing (unit tests).
    const active = trace.getActiveSpan()?.spanContext();
    const incoming = parseTraceparent(req.header('traceparent'));
    holder[TRACE_CONTEXT] =
      active && isSpanContextValid(active)
        ? { traceId: active.traceId, spanId: active.spanId, flags: active.traceFlags.toString(16).padStart(2, '0') }
        : {
            traceId: incoming?.traceId ?? randomBytes(16).toString('hex'),
            spanId: randomBytes(8).toString('hex'),
            flags: incoming?.flags ?? '01',
          };
  }
  const context = holder[TRACE_CONTEXT];
  if (!res.headersSent) res.setHeader('traceparent', formatTraceparent(context));
  return context;
}

/** What a gRPC call made for this request propagates: the trace context and the request id. */
export function callContextOf(req: Request, res: Response): { traceparent: string; requestId?: string } {
  const requestId = res.getHeader('x-request-id');
  return {
    traceparent: formatTraceparent(traceContextOf(req, res)),
    requestId: typeof requestId === 'string' ? requestId : undefined,
  };
}
