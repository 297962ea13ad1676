// Reading the local trace store and printing one order's trace as a tree (what `lab trace <order-id>` shows).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPAN_KIND_NAMES, type StoredSpan } from './otlp-receiver';

/** Every span stored under `dir` (JSON lines, one file per day); unreadable lines are skipped. */
export function readStoredSpans(dir: string): StoredSpan[] {
  if (!existsSync(dir)) return [];
  const spans: StoredSpan[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        spans.push(JSON.parse(line) as StoredSpan);
      } catch {
        // a line cut by a crash mid-write
      }
    }
  }
  return spans;
}

/** The trace ids whose spans carry `order.id` = orderId, oldest first (normally one: one order, one trace). */
export function tracesOfOrder(spans: readonly StoredSpan[], orderId: string): string[] {
  const first = new Map<string, bigint>();
  for (const span of spans) {
    if (span.attributes['order.id'] !== orderId) continue;
    const start = BigInt(span.startUnixNano);
    const known = first.get(span.traceId);
    if (known === undefined || start < known) first.set(span.traceId, start);
  }
  return [...first].sort((a, b) => (a[1] < b[1] ? -1 : 1)).map(([traceId]) => traceId);
}

const durationMs = (span: StoredSpan) => Number(BigInt(span.endUnixNano) - BigInt(span.startUnixNano)) / 1e6;

/** The spans of one trace as an indented tree: service, name, kind, duration, span events; orphans at the root. */
export function formatSpanTree(spans: readonly StoredSpan[], traceId: string): string {
  const ofTrace = spans.filter((s) => s.traceId === traceId);
  const ids = new Set(ofTrace.map((s) => s.spanId));
  const children = new Map<string | undefined, StoredSpan[]>();
  for (const span of ofTrace) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  for (const list of children.values())
    list.sort((a, b) => (BigInt(a.startUnixNano) < BigInt(b.startUnixNano) ? -1 : 1));
  const t0 = ofTrace.reduce(
    (min, s) => (BigInt(s.startUnixNano) < min ? BigInt(s.startUnixNano) : min),
    BigInt(ofTrace[0]?.startUnixNano ?? 0),
  );
  const lines = [
    `trace ${traceId}: ${ofTrace.length} spans from ${new Set(ofTrace.map((s) => s.service)).size} services`,
  ];
  const walk = (parent: string | undefined, depth: number) => {
    for (const span of children.get(parent) ?? []) {
      const offset = (Number(BigInt(span.startUnixNano) - t0) / 1e6).toFixed(1);
      const failed = span.status?.code === 2 ? '  ERROR' : '';
      lines.push(
        `${'  '.repeat(depth)}${span.service}  ${span.name}  [${SPAN_KIND_NAMES[span.kind] ?? span.kind}]  ${durationMs(span).toFixed(1)} ms  (+${offset} ms)${failed}`,
      );
      for (const event of span.events)
        lines.push(`${'  '.repeat(depth + 1)}· ${event.name} ${JSON.stringify(event.attributes)}`);
      walk(span.spanId, depth + 1);
    }
  };
  walk(undefined, 1);
  return lines.join('\n');
}
