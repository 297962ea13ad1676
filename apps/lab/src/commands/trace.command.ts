// `lab trace <order-id>`: one order's trace as a span tree, from the target's trace backend. Local: the store the
// supervisor keeps under <state>/traces (OTLP receiver, see tracing/trace-store.ts). kind, or LAB_TRACE_QUERY_URL:
// Jaeger's query API (the UI's own /api/traces). With neither, it says so instead of printing nothing.
import { existsSync } from 'node:fs';
import type { LabLayout } from '../layout/lab-layout';
import { LabError } from '../process/lab-error';
import type { StoredSpan } from '../tracing/otlp-receiver';
import { formatSpanTree, readStoredSpans, tracesOfOrder } from '../tracing/span-tree';
import { traceStoreDir, traceStoreEnabled } from '../tracing/trace-store';

export interface TraceOptions {
  target: 'local' | 'kind';
  json?: boolean;
  /** Jaeger's base URL (kind: the UI's port-forward, http://localhost:16686). */
  jaegerUrl?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The tree (or the spans as JSON) of the trace(s) of one order; throws a LabError saying why when there is none. */
export async function traceCommand(
  layout: LabLayout,
  orderId: string,
  options: TraceOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if (!UUID.test(orderId))
    throw new LabError('trace', `"${orderId}" is not an order id (a uuid, as POST /v1/orders answers)`);
  const jaegerUrl = options.jaegerUrl ?? env['LAB_TRACE_QUERY_URL'];
  const spans = jaegerUrl ? await spansFromJaeger(jaegerUrl, orderId) : spansFromLocalStore(layout, env);
  const traceIds = tracesOfOrder(spans, orderId);
  if (traceIds.length === 0) {
    throw new LabError(
      'trace',
      `no span carries order.id=${orderId} in ${jaegerUrl ?? traceStoreDir(layout)}. Spans are exported about a second after they end; ` +
        'an order placed before tracing was on has no trace.',
    );
  }
  const ofOrder = spans.filter((s) => traceIds.includes(s.traceId));
  if (options.json) return JSON.stringify(ofOrder, null, 2);
  const note =
    traceIds.length > 1
      ? `\nnote: ${traceIds.length} traces carry this order (e.g. a retried request); one order should be one trace.`
      : '';
  return traceIds.map((id) => formatSpanTree(ofOrder, id)).join('\n\n') + note;
}

function spansFromLocalStore(layout: LabLayout, env: NodeJS.ProcessEnv): StoredSpan[] {
  const dir = traceStoreDir(layout);
  if (!traceStoreEnabled(env)) {
    throw new LabError(
      'trace',
      'no trace backend is configured: LAB_TRACES=off, so services export nothing. Unset it and run `lab up` again.',
    );
  }
  if (!existsSync(dir)) {
    throw new LabError(
      'trace',
      `no trace backend is configured for this lab: ${dir} does not exist. Run \`lab up\` (the supervisor then stores traces there), ` +
        'or point LAB_TRACE_QUERY_URL at a Jaeger query endpoint; on kind use `lab trace --target kind`.',
    );
  }
  return readStoredSpans(dir);
}

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references?: { refType: string; spanID: string }[];
  startTime: number;
  duration: number;
  tags?: { key: string; value: string | number | boolean }[];
  logs?: { fields?: { key: string; value: string | number | boolean }[] }[];
  processID: string;
}
interface JaegerTrace {
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

const KINDS: Record<string, number> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };

/** Jaeger's query API: traces of `orders` (whose PlaceOrder span carries order.id) tagged with the order. */
async function spansFromJaeger(baseUrl: string, orderId: string): Promise<StoredSpan[]> {
  const url = new URL('/api/traces', baseUrl);
  url.searchParams.set('service', 'orders');
  url.searchParams.set('tags', JSON.stringify({ 'order.id': orderId }));
  url.searchParams.set('lookback', '24h');
  url.searchParams.set('limit', '20');
  let body: { data?: JaegerTrace[] };
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    body = (await response.json()) as { data?: JaegerTrace[] };
  } catch (error) {
    throw new LabError(
      'trace',
      `cannot query Jaeger at ${url.origin} (${(error as Error).message}); is the lab up (kind: Jaeger UI on ${baseUrl})?`,
    );
  }
  return (body.data ?? []).flatMap((trace) =>
    trace.spans.map((span): StoredSpan => {
      const tags = Object.fromEntries((span.tags ?? []).map((t) => [t.key, t.value]));
      const parent = span.references?.find((r) => r.refType === 'CHILD_OF')?.spanID;
      const startNs = BigInt(span.startTime) * 1000n;
      return {
        traceId: span.traceID.padStart(32, '0'),
        spanId: span.spanID.padStart(16, '0'),
        ...(parent ? { parentSpanId: parent.padStart(16, '0') } : {}),
        name: span.operationName,
        kind: KINDS[String(tags['span.kind'] ?? 'internal')] ?? 1,
        service: trace.processes[span.processID]?.serviceName ?? 'unknown',
        startUnixNano: startNs.toString(),
        endUnixNano: (startNs + BigInt(span.duration) * 1000n).toString(),
        attributes: tags,
        events: (span.logs ?? []).map((log) => {
          const fields = Object.fromEntries((log.fields ?? []).map((f) => [f.key, f.value]));
          return { name: String(fields['event'] ?? 'event'), attributes: fields };
        }),
        ...(tags['otel.status_code'] === 'ERROR' ? { status: { code: 2 } } : {}),
      };
    }),
  );
}
