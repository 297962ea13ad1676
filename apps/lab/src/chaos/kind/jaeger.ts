// The in-cluster Jaeger, read through the API server's service proxy (`kubectl get --raw`, as Prometheus is): the
// run's traces as the same StoredSpan the local trace store keeps, so the trace checks (trace-checks.ts) are the
// same pure functions on both targets. Jaeger's query API answers in its own model: tags for attributes, `span.kind`
// and `otel.status_code` as tags, logs for events, the service on the trace's process table.
import { k8sPort } from '../../kind/k8s-ports';
import { KIND_NAMESPACE } from '../../kind/kind-plan';
import type { StoredSpan } from '../../tracing/otlp-receiver';
import { kubectlPlan } from './kind-chaos-plan';
import type { Kubectl } from './kubectl';

export const jaegerPort = (root: string): number => k8sPort(root, 'jaeger-ui');

const proxy = (port: number, path: string) =>
  `/api/v1/namespaces/${KIND_NAMESPACE}/services/jaeger:${port}/proxy${path}`;

/** Jaeger's list of services that reported spans. */
export const servicesPath = (port: number) => proxy(port, '/api/services');

/** The traces holding a span of `service` that started in [fromMs, toMs] (Jaeger takes microseconds). */
export const tracesPath = (port: number, service: string, fromMs: number, toMs: number, limit: number) =>
  proxy(
    port,
    `/api/traces?${new URLSearchParams({ service, start: String(Math.floor(fromMs * 1000)), end: String(Math.ceil(toMs * 1000)), limit: String(limit) })}`,
  );

interface JaegerTag {
  key: string;
  type?: string;
  value: string | number | boolean;
}
interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references?: { refType: string; traceID: string; spanID: string }[];
  /** Microseconds. */
  startTime: number;
  duration: number;
  tags?: JaegerTag[];
  logs?: { timestamp: number; fields?: JaegerTag[] }[];
  processID: string;
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

const KINDS: Record<string, number> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };
/** Tags Jaeger derives from OTLP fields that StoredSpan carries elsewhere (kind, status) or not at all. */
const DERIVED = new Set([
  'span.kind',
  'otel.status_code',
  'otel.status_description',
  'error',
  'internal.span.format',
  'otel.scope.name',
  'otel.scope.version',
  'otel.library.name',
  'otel.library.version',
]);

const tagMap = (tags: JaegerTag[] | undefined) => Object.fromEntries((tags ?? []).map((t) => [t.key, t.value]));
/** Jaeger drops leading zeros of a 128-bit id whose high half is 0; the local store keeps 32 hex digits. */
const traceHex = (id: string) => id.padStart(32, '0');
const nanos = (micros: number) => (BigInt(Math.round(micros)) * 1000n).toString();

/** Jaeger's `{ data: [trace] }` answer as stored spans. */
export function parseJaegerTraces(body: string): StoredSpan[] {
  const answer = JSON.parse(body) as { data?: JaegerTrace[] | null; errors?: { msg?: string }[] | null };
  if (answer.errors?.length) throw new Error(`Jaeger: ${answer.errors.map((e) => e.msg ?? 'error').join('; ')}`);
  return (answer.data ?? []).flatMap((trace) =>
    trace.spans.map((span): StoredSpan => {
      const tags = tagMap(span.tags);
      const parent = span.references?.find((r) => r.refType === 'CHILD_OF');
      const statusCode =
        tags['otel.status_code'] === 'ERROR' || tags['error'] === true
          ? 2
          : tags['otel.status_code'] === 'OK'
            ? 1
            : undefined;
      return {
        traceId: traceHex(span.traceID),
        spanId: span.spanID,
        ...(parent ? { parentSpanId: parent.spanID } : {}),
        name: span.operationName,
        kind: KINDS[String(tags['span.kind'] ?? 'internal')] ?? 1,
        service: trace.processes[span.processID]?.serviceName ?? 'unknown',
        startUnixNano: nanos(span.startTime),
        endUnixNano: nanos(span.startTime + span.duration),
        attributes: Object.fromEntries(Object.entries(tags).filter(([k]) => !DERIVED.has(k))),
        events: (span.logs ?? []).map((log) => {
          const fields = tagMap(log.fields);
          const { event, ...attributes } = fields;
          return { name: String(event ?? 'log'), attributes };
        }),
        ...(statusCode
          ? {
              status: {
                code: statusCode,
                ...(tags['otel.status_description'] ? { message: String(tags['otel.status_description']) } : {}),
              },
            }
          : {}),
      };
    }),
  );
}

/** Each span once, though a trace crossing several services comes back once per service asked. */
export function uniqueSpans(spans: StoredSpan[]): StoredSpan[] {
  const seen = new Map<string, StoredSpan>();
  for (const s of spans) seen.set(`${s.traceId}/${s.spanId}`, s);
  return [...seen.values()];
}

/** Traces per service per read: far more than a quick run's orders, so a run's traces are never cut. */
export const TRACE_LIMIT = 5000;

/** Every span of the traces that touched a lab service since `fromMs`. */
export async function kindSpans(kubectl: Kubectl, port: number, fromMs: number, toMs: number): Promise<StoredSpan[]> {
  const services =
    (JSON.parse(await kubectl.output(kubectlPlan.jaeger(servicesPath(port)))) as { data?: string[] | null }).data ?? [];
  const spans: StoredSpan[] = [];
  for (const service of services.filter((s) => !s.startsWith('jaeger'))) {
    spans.push(
      ...parseJaegerTraces(
        await kubectl.output(kubectlPlan.jaeger(tracesPath(port, service, fromMs, toMs, TRACE_LIMIT))),
      ),
    );
  }
  return uniqueSpans(spans);
}
