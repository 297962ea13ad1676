import type { StoredSpan } from '../tracing/otlp-receiver';
import { breakerOpenTraces, orderTraceHops, traceIsBroken } from './trace-checks';

const T0 = 1_800_000_000_000;
let ids = 0;
const nano = (ms: number) => `${BigInt(T0 + ms) * 1_000_000n}`;

function span(
  traceId: string,
  service: string,
  kind: number,
  name: string,
  startMs: number,
  durationMs: number,
  extra: Partial<StoredSpan> = {},
): StoredSpan {
  ids += 1;
  return {
    traceId,
    spanId: `s${ids}`,
    name,
    kind,
    service,
    startUnixNano: nano(startMs),
    endUnixNano: nano(startMs + durationMs),
    attributes: {},
    events: [],
    ...extra,
  };
}

/**
 * One GET /v1/recommendations through gateway-chaos at `at` ms: a call that reached recommendations, or a
 * short-circuit.
 */
function request(traceId: string, at: number, outcome: 'called' | 'rejected' | 'called-then-rejected'): StoredSpan[] {
  const spans = [
    span(traceId, 'gateway-chaos', 2, 'GET /v1/recommendations', at, 300, {
      attributes: { 'http.route': '/v1/recommendations' },
    }),
  ];
  if (outcome !== 'rejected') {
    spans.push(
      span(
        traceId,
        'gateway-chaos',
        3,
        'grpc.faultline.recommendations.v1.RecommendationsService/GetRecommendations',
        at + 1,
        280,
        { attributes: { 'rpc.service': 'faultline.recommendations.v1.RecommendationsService' } },
      ),
    );
    spans.push(
      span(
        traceId,
        'recommendations',
        2,
        'grpc.faultline.recommendations.v1.RecommendationsService/GetRecommendations',
        at + 2001,
        2,
      ),
    );
  }
  if (outcome !== 'called') {
    spans.push(
      span(traceId, 'gateway-chaos', 1, 'request handler', at, 290, {
        events: [{ name: 'breaker.rejected', attributes: { 'peer.service': 'recommendations' } }],
      }),
    );
  }
  return spans;
}

const options = {
  gatewayService: 'gateway-chaos',
  route: '/v1/recommendations',
  dependency: 'recommendations',
  from: T0,
  to: T0 + 10_000,
};

/**
 * Before the fault: live calls; the breaker opens on the 4th request (its call fails, its retry is rejected); a
 * half-open trial at 6 s.
 */
function healthyRun(): StoredSpan[] {
  return [
    ...request('a1', 0, 'called'),
    ...request('a2', 100, 'called'),
    ...request('a3', 200, 'called'),
    ...request('a4', 300, 'called-then-rejected'),
    ...Array.from({ length: 20 }, (_, i) => request(`r${i}`, 700 + i * 250, 'rejected')).flat(),
    ...request('trial', 5_800, 'called'),
    ...Array.from({ length: 10 }, (_, i) => request(`q${i}`, 6_000 + i * 250, 'rejected')).flat(),
  ];
}

describe('breakerOpenTraces: while the breaker was open, no span reached the dependency', () => {
  it('holds for calls before the breaker opened, a call whose server span lands late, and a half-open trial', () => {
    const f = breakerOpenTraces(healthyRun(), options);
    expect(f.requests).toBe(35);
    expect(f.rejected).toBe(31);
    expect(f.periods).toHaveLength(2);
    expect(f.periods[0]).toMatchObject({ from: T0 + 581, to: T0 + 700 + 19 * 250, requests: 21 });
    expect(f.callsWhileOpen).toEqual([]);
    expect(f.callsOutside).toBe(5);
  });

  it('fails when a call to the dependency starts while the breaker is open (a fallback that asks it after all)', () => {
    const spans = healthyRun();
    spans.push(
      span(
        'r7',
        'gateway-chaos',
        3,
        'grpc.faultline.recommendations.v1.RecommendationsService/GetRecommendations',
        700 + 7 * 250 + 5,
        20,
        { attributes: { 'rpc.service': 'faultline.recommendations.v1.RecommendationsService' } },
      ),
    );
    const f = breakerOpenTraces(spans, options);
    expect(f.callsWhileOpen.map((s) => s.traceId)).toEqual(['r7']);
  });

  it('fails when the breaker lets calls through between rejections (a call from another request inside the run)', () => {
    const spans = healthyRun();
    spans.push(
      span(
        'stray',
        'gateway-chaos',
        3,
        'grpc.faultline.recommendations.v1.RecommendationsService/GetRecommendations',
        2_000,
        300,
        { attributes: { 'rpc.service': 'faultline.recommendations.v1.RecommendationsService' } },
      ),
    );
    expect(breakerOpenTraces(spans, options).callsWhileOpen.map((s) => s.traceId)).toEqual(['stray']);
  });

  it('finds no open period when no trace was short-circuited, and ignores other gateways and routes', () => {
    const spans = [...request('a1', 0, 'called'), ...request('a2', 100, 'called')];
    spans.push(...request('other', 200, 'rejected').map((s) => ({ ...s, service: 'gateway' })));
    const f = breakerOpenTraces(spans, options);
    expect(f.periods).toEqual([]);
    expect(f.requests).toBe(2);
  });
});

describe('orderTraceHops: the order is ONE trace through every service', () => {
  const services = ['gateway', 'orders', 'outbox-relay-orders', 'inventory', 'notifications'];
  const order = (orderId: string, traceId: string, through: string[]): StoredSpan[] =>
    through.map((service, i) =>
      span(traceId, service, 2, `${service} hop`, i * 10, 5, {
        attributes: i === 0 || service === 'outbox-relay-orders' ? { 'order.id': orderId } : {},
      }),
    );

  it('holds when every hop is in the order’s single trace', () => {
    const findings = orderTraceHops(
      [...order('o1', 't1', services), ...order('o2', 't2', services)],
      ['o1', 'o2'],
      services,
    );
    expect(findings.filter(traceIsBroken)).toEqual([]);
  });

  it('fails on a missing hop (the relay restarted without the outbox row’s trace context)', () => {
    const spans = [
      ...order('o1', 't1', ['gateway', 'orders']),
      ...order('o1', 't9', ['outbox-relay-orders', 'inventory', 'notifications']),
    ];
    const [f] = orderTraceHops(spans, ['o1'], services);
    expect(traceIsBroken(f)).toBe(true);
    expect(f.traces).toBe(2);
    const [g] = orderTraceHops(
      order('o2', 't2', ['gateway', 'orders', 'inventory', 'notifications']),
      ['o2'],
      services,
    );
    expect(g.missing).toEqual(['outbox-relay-orders']);
  });

  it('fails for an order with no trace at all', () => {
    const [f] = orderTraceHops([], ['o3'], services);
    expect(f).toMatchObject({ traces: 0, missing: services });
    expect(traceIsBroken(f)).toBe(true);
  });
});
