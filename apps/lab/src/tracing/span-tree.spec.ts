import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { traceCommand } from '../commands/trace.command';
import { resolveLayout } from '../layout/lab-layout';
import { LabError } from '../process/lab-error';
import { flattenTraceRequest, startOtlpReceiver, type StoredSpan } from './otlp-receiver';
import { formatSpanTree, tracesOfOrder } from './span-tree';

const ORDER = '0b7c8a52-61d4-4c44-9d0f-1f1d2a3b4c5d';
const TRACE = 'aa'.repeat(16);
const kv = (key: string, value: string) => ({ key, value: { stringValue: value } });
const span = (
  spanId: string,
  parentSpanId: string | undefined,
  name: string,
  kind: number,
  startMs: number,
  attributes: ReturnType<typeof kv>[] = [],
) => ({
  traceId: TRACE,
  spanId,
  ...(parentSpanId ? { parentSpanId } : {}),
  name,
  kind,
  startTimeUnixNano: String(startMs * 1e6),
  endTimeUnixNano: String((startMs + 5) * 1e6),
  attributes,
  events: [],
});
const request = (service: string, spans: ReturnType<typeof span>[]) => ({
  resourceSpans: [{ resource: { attributes: [kv('service.name', service)] }, scopeSpans: [{ spans }] }],
});

const gateway = request('gateway', [span('01'.repeat(8), undefined, 'POST /v1/orders', 2, 0)]);
const orders = request('orders', [
  span('02'.repeat(8), '01'.repeat(8), 'faultline.orders.v1.OrdersService/PlaceOrder', 2, 1, [kv('order.id', ORDER)]),
]);
const relay = request('outbox-relay-orders', [
  span('03'.repeat(8), '02'.repeat(8), 'orders.events publish', 4, 20, [kv('order.id', ORDER)]),
]);

describe('local trace store', () => {
  it('flattens OTLP/JSON and prints one order as a tree, parent before child', () => {
    const spans: StoredSpan[] = [gateway, orders, relay].flatMap((r) => flattenTraceRequest(r));
    expect(spans.map((s) => s.service)).toEqual(['gateway', 'orders', 'outbox-relay-orders']);
    expect(tracesOfOrder(spans, ORDER)).toEqual([TRACE]);
    const tree = formatSpanTree(spans, TRACE).split('\n');
    expect(tree[0]).toBe(`trace ${TRACE}: 3 spans from 3 services`);
    expect(tree[1]).toMatch(/^ {2}gateway {2}POST \/v1\/orders {2}\[server\] {2}5\.0 ms/);
    expect(tree[2]).toMatch(/^ {4}orders {2}.*PlaceOrder {2}\[server\]/);
    expect(tree[3]).toMatch(/^ {6}outbox-relay-orders {2}orders\.events publish {2}\[producer\]/);
  });

  it('the receiver accepts OTLP/HTTP JSON and refuses protobuf', async () => {
    const received: StoredSpan[] = [];
    const receiver = await startOtlpReceiver(0, (spans) => received.push(...spans));
    try {
      const ok = await fetch(`${receiver.endpoint}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(orders),
      });
      expect(ok.status).toBe(200);
      const proto = await fetch(`${receiver.endpoint}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: 'x',
      });
      expect(proto.status).toBe(415);
      expect(received.map((s) => s.attributes['order.id'])).toEqual([ORDER]);
    } finally {
      await receiver.close();
    }
  });

  it('`lab trace` reads the store, and says plainly when there is none', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'lab-trace-'));
    const layout = resolveLayout({ LAB_STATE_DIR: stateDir }, process.cwd());
    await expect(traceCommand(layout, ORDER, { target: 'local' }, {})).rejects.toThrow(
      /no trace backend is configured/,
    );
    mkdirSync(join(stateDir, 'traces'));
    writeFileSync(
      join(stateDir, 'traces', 'spans-2026-01-01.jsonl'),
      [gateway, orders, relay]
        .flatMap((r) => flattenTraceRequest(r))
        .map((s) => JSON.stringify(s))
        .join('\n') + '\n',
    );
    const out = await traceCommand(layout, ORDER, { target: 'local' }, {});
    expect(out).toContain('outbox-relay-orders  orders.events publish');
    await expect(
      traceCommand(layout, '11111111-2222-4333-8444-555555555555', { target: 'local' }, {}),
    ).rejects.toBeInstanceOf(LabError);
    await expect(traceCommand(layout, ORDER, { target: 'local' }, { LAB_TRACES: 'off' })).rejects.toThrow(
      /LAB_TRACES=off/,
    );
  });
});
