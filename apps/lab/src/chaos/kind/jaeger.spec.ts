import { orderTraceHops } from '../trace-checks';
import { kindSpans, parseJaegerTraces, tracesPath, uniqueSpans } from './jaeger';
import type { Kubectl } from './kubectl';

// One order's trace as Jaeger's query API returns it: gateway server span, its gRPC client span with the breaker's
// event, and the orders service's server span (the OTLP → Jaeger mapping: span.kind and status as tags, events as
// logs).
const ANSWER = JSON.stringify({
  data: [
    {
      traceID: 'e3a0c5b2d1f4a6b8c9d0e1f2a3b4c5d6',
      spans: [
        {
          traceID: 'e3a0c5b2d1f4a6b8c9d0e1f2a3b4c5d6',
          spanID: 'aaaaaaaaaaaaaaa1',
          operationName: 'POST /v1/orders',
          references: [],
          startTime: 1_700_000_000_000_000,
          duration: 2500,
          processID: 'p1',
          tags: [
            { key: 'span.kind', type: 'string', value: 'server' },
            { key: 'http.route', type: 'string', value: '/v1/orders' },
            { key: 'order.id', type: 'string', value: 'o-1' },
            { key: 'internal.span.format', type: 'string', value: 'otlp' },
          ],
          logs: [],
        },
        {
          traceID: 'e3a0c5b2d1f4a6b8c9d0e1f2a3b4c5d6',
          spanID: 'aaaaaaaaaaaaaaa2',
          operationName: 'orders.v1.Orders/PlaceOrder',
          references: [
            { refType: 'CHILD_OF', traceID: 'e3a0c5b2d1f4a6b8c9d0e1f2a3b4c5d6', spanID: 'aaaaaaaaaaaaaaa1' },
          ],
          startTime: 1_700_000_000_000_100,
          duration: 2000,
          processID: 'p1',
          tags: [
            { key: 'span.kind', type: 'string', value: 'client' },
            { key: 'rpc.service', type: 'string', value: 'faultline.orders.v1.Orders' },
            { key: 'otel.status_code', type: 'string', value: 'ERROR' },
            { key: 'otel.status_description', type: 'string', value: 'deadline' },
            { key: 'error', type: 'bool', value: true },
          ],
          logs: [
            {
              timestamp: 1_700_000_000_000_200,
              fields: [
                { key: 'event', type: 'string', value: 'breaker.rejected' },
                { key: 'peer.service', type: 'string', value: 'orders' },
              ],
            },
          ],
        },
        {
          traceID: 'e3a0c5b2d1f4a6b8c9d0e1f2a3b4c5d6',
          spanID: 'aaaaaaaaaaaaaaa3',
          operationName: 'PlaceOrder',
          references: [
            { refType: 'CHILD_OF', traceID: 'e3a0c5b2d1f4a6b8c9d0e1f2a3b4c5d6', spanID: 'aaaaaaaaaaaaaaa2' },
          ],
          startTime: 1_700_000_000_000_300,
          duration: 900,
          processID: 'p2',
          tags: [
            { key: 'span.kind', type: 'string', value: 'server' },
            { key: 'order.id', type: 'string', value: 'o-1' },
          ],
        },
      ],
      processes: { p1: { serviceName: 'gateway', tags: [] }, p2: { serviceName: 'orders', tags: [] } },
    },
    // A 128-bit id whose high half is zero: Jaeger prints 16 hex digits.
    {
      traceID: '00000000000000ff',
      spans: [
        {
          traceID: '00000000000000ff',
          spanID: 'bbbbbbbbbbbbbbb1',
          operationName: 'relay',
          startTime: 1,
          duration: 1,
          processID: 'p1',
        },
      ],
      processes: { p1: { serviceName: 'outbox-relay-orders' } },
    },
  ],
});

describe('Jaeger on kind: its query API answer as the spans the trace checks read', () => {
  it('maps kind, parent, service, times, attributes, events and status as the local trace store keeps them', () => {
    const [server, client, orders, relay] = parseJaegerTraces(ANSWER);
    expect(server).toEqual({
      traceId: 'e3a0c5b2d1f4a6b8c9d0e1f2a3b4c5d6',
      spanId: 'aaaaaaaaaaaaaaa1',
      name: 'POST /v1/orders',
      kind: 2,
      service: 'gateway',
      startUnixNano: '1700000000000000000',
      endUnixNano: '1700000000002500000',
      attributes: { 'http.route': '/v1/orders', 'order.id': 'o-1' },
      events: [],
    });
    expect(client).toMatchObject({
      kind: 3,
      parentSpanId: 'aaaaaaaaaaaaaaa1',
      attributes: { 'rpc.service': 'faultline.orders.v1.Orders' },
      status: { code: 2, message: 'deadline' },
    });
    expect(client.events).toEqual([{ name: 'breaker.rejected', attributes: { 'peer.service': 'orders' } }]);
    expect(orders).toMatchObject({ service: 'orders', kind: 2 });
    expect(relay).toMatchObject({
      traceId: '000000000000000000000000000000ff',
      kind: 1,
      service: 'outbox-relay-orders',
    });
  });

  it('feeds the same trace assertions: the order is one trace through gateway and orders, and not through inventory', () => {
    const spans = uniqueSpans([...parseJaegerTraces(ANSWER), ...parseJaegerTraces(ANSWER)]);
    expect(spans).toHaveLength(4);
    expect(orderTraceHops(spans, ['o-1'], ['gateway', 'orders'])).toEqual([
      { orderId: 'o-1', traces: 1, services: ['gateway', 'orders'], missing: [] },
    ]);
    expect(orderTraceHops(spans, ['o-1'], ['gateway', 'inventory'])[0].missing).toEqual(['inventory']);
  });

  it('asks Jaeger through the API server’s service proxy, in microseconds, and reports Jaeger’s own errors', () => {
    expect(tracesPath(16686, 'gateway', 1000, 2000.5, 5000)).toBe(
      '/api/v1/namespaces/faultline/services/jaeger:16686/proxy/api/traces?service=gateway&start=1000000&end=2000500&limit=5000',
    );
    expect(() =>
      parseJaegerTraces(JSON.stringify({ data: null, errors: [{ code: 400, msg: 'bad service' }] })),
    ).toThrow('Jaeger: bad service');
    expect(parseJaegerTraces(JSON.stringify({ data: null }))).toEqual([]);
  });
});

describe('kindSpans', () => {
  it('asks Jaeger for every service it lists but its own, from the run’s start, and keeps each span once', async () => {
    const asked: string[] = [];
    const kubectl = {
      output: async (args: string[]) => {
        const path = args[args.indexOf('--raw') + 1];
        asked.push(path);
        return path.endsWith('/api/services') ? JSON.stringify({ data: ['gateway', 'orders', 'jaeger'] }) : ANSWER;
      },
    } as unknown as Kubectl;
    const spans = await kindSpans(kubectl, 16686, 1_700_000_000_000, 1_700_000_100_000);
    expect(asked).toEqual([
      '/api/v1/namespaces/faultline/services/jaeger:16686/proxy/api/services',
      tracesPath(16686, 'gateway', 1_700_000_000_000, 1_700_000_100_000, 5000),
      tracesPath(16686, 'orders', 1_700_000_000_000, 1_700_000_100_000, 5000),
    ]);
    // The same trace came back for both services: 4 spans, not 8.
    expect(spans).toHaveLength(4);
  });
});
