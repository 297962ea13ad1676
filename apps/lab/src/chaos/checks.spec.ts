// Every verdict check on fixtures: one where it holds, one where the damage it exists for is there and it fails
// (naming the ids), and one with nothing to judge, which must be INCONCLUSIVE, never a pass.
import type { DlqEntry } from '@faultline/messaging';
import type { StoredSpan } from '../tracing/otlp-receiver';
import { evaluate } from './checks';
import { EvidenceData, fixtureEvidence, pipeline, redeliver } from './evidence.fixtures';
import { VERDICT_CHECKS, type VerdictCheckSpec } from './experiment-schema';
import type { RequestRecord } from '@faultline/load';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const C = '00000000-0000-4000-8000-00000000000c';
const window = { injectedAt: 1000, healedAt: 9000 };
const req = (t: number, route: string, status: number, ms = 20, extra: Partial<RequestRecord> = {}): RequestRecord => ({
  t,
  route,
  status,
  ms,
  ...extra,
});
const during = (n: number, route: string, status: number, ms = 20, extra: Partial<RequestRecord> = {}) =>
  Array.from({ length: n }, (_, i) => req(1100 + i * 50, route, status, ms, extra));

const healthy = () => pipeline([{ id: A }, { id: B }, { id: C, status: 'REJECTED' }], { 'SKU-0001': 10 });
const span = (s: Partial<StoredSpan> & { traceId: string; startMs: number; endMs: number }): StoredSpan =>
  ({
    spanId: `${s.traceId.slice(0, 8)}${Math.round(s.startMs)}`,
    parentSpanId: undefined,
    name: 'x',
    kind: 2,
    service: 'gateway',
    attributes: {},
    events: [],
    status: 0,
    ...s,
    startUnixNano: String(BigInt(s.startMs) * 1_000_000n),
    endUnixNano: String(BigInt(s.endMs) * 1_000_000n),
  }) as unknown as StoredSpan;
const dlqEntry = (eventId: string, kind: string, attempts: number, at: number): DlqEntry =>
  ({
    id: `orders.events.dlq:0:${attempts}`,
    dlqTopic: 'orders.events.dlq',
    originalTopic: 'orders.events',
    eventId,
    type: 'OrderConfirmed',
    error: { message: 'boom', kind, attempts },
    key: null,
    value: null,
    headers: {},
    timestamp: new Date(at).toISOString(),
  }) as unknown as DlqEntry;
const quietEdge = (quietFrom: number, quietTo: number) => ({
  edge: 'gateway->recommendations',
  samples: Array.from({ length: 90 }, (_, i) => {
    const t = 1000 + i * 100;
    return { t, bytesUpstream: t < quietFrom ? t : t > quietTo ? t : quietFrom, bytesDownstream: 0, heldChunks: 0 };
  }),
});
const busyEdge = () => quietEdge(20_000, 20_000);

// The attacker's record (attack.ts): a refused attempt of a kind, a leaked answer, the controls and the bypass probes.
const attempt = (
  attack: string,
  method: string,
  path: string,
  status: number,
  extra: Record<string, unknown> = {},
) => ({
  t: 2000,
  attack,
  method,
  path,
  status,
  contentType: 'application/problem+json; charset=utf-8',
  ms: 3,
  leaked: [],
  ...extra,
});
const ALL_REFUSED = [
  attempt('no-token', 'POST', '/v1/orders', 401),
  ...[
    'forged-signature',
    'alg-none',
    'hs256-with-public-key',
    'wrong-audience',
    'expired',
    'role-claim-tampered',
    'revoked',
    'retired-key',
  ].flatMap((k) => [
    attempt(k, 'GET', '/v1/orders?limit=50', 401),
    attempt(k, 'POST', '/v1/orders', 401),
    attempt(k, 'PUT', '/v1/admin/products/SKU-0046/stock', 401),
  ]),
  attempt('idor-read', 'GET', `/v1/orders/${A}`, 404),
  attempt('admin-route-as-customer', 'PUT', '/v1/admin/products/SKU-0046/stock', 403),
];
const attackFacts = (extra: Record<string, unknown> = {}) => ({
  attack: {
    attempts: ALL_REFUSED,
    bypass: [
      { from: 'loopback', to: 'orders grpc :7051', reached: true, control: true, detail: 'connected' },
      {
        from: 'the network (10.0.0.5)',
        to: 'orders grpc :7051',
        reached: false,
        control: false,
        detail: 'ECONNREFUSED',
      },
    ],
    attackerPrefix: 'chaos-r1-x-',
    sku: 'SKU-0046',
    sentinel: 424242,
    victims: 1,
    controls: [{ what: "the attacker's own customer token is accepted", ok: true, detail: 'accepted (200)' }],
    notTried: [],
    ...extra,
  },
});
const attackStock = { start: { 'SKU-0046': 50 }, end: { 'SKU-0046': 50 } };

interface Case {
  spec: VerdictCheckSpec;
  holds: EvidenceData;
  fails: EvidenceData;
  /** What the damage of the failing fixture must name. */
  damage: RegExp;
  empty: EvidenceData;
}

const CASES: Record<(typeof VERDICT_CHECKS)[number], Case> = {
  'all-orders-final': {
    spec: { check: 'all-orders-final' },
    holds: healthy(),
    fails: pipeline([{ id: A }, { id: B, status: 'PENDING' }]),
    damage: new RegExp(`stuck PENDING.*${B}`),
    empty: {},
  },
  'one-delivery-per-order': {
    spec: { check: 'one-delivery-per-order' },
    holds: healthy(),
    fails: (() => {
      const p = healthy();
      return { ...p, deliveries: [...p.deliveries, { ...p.deliveries[0] }].filter((d) => d.orderId !== B) };
    })(),
    damage: new RegExp(`never notified: ${B}|notified more than once: ${A}`),
    empty: pipeline([{ id: A, status: 'PENDING' }]),
  },
  'redeliveries-absorbed': {
    spec: { check: 'redeliveries-absorbed' },
    holds: (() => {
      const p = healthy();
      return { ...p, bus: redeliver(p.bus, A, 'OrderConfirmed') };
    })(),
    fails: (() => {
      const p = healthy();
      return {
        ...p,
        bus: redeliver(p.bus, A, 'OrderConfirmed'),
        deliveries: [...p.deliveries, ...p.deliveries.filter((d) => d.orderId === A)],
      };
    })(),
    damage: new RegExp(`redelivered and sent again.*${A}`),
    // Kafka delivered every event once: the dedup path was never exercised.
    empty: healthy(),
  },
  'stock-conservation': {
    spec: { check: 'stock-conservation' },
    holds: pipeline(
      [
        { id: A, sku: 'SKU-0050' },
        { id: B, sku: 'SKU-0050', status: 'REJECTED' },
      ],
      { 'SKU-0050': 1 },
    ),
    // Two orders CONFIRMED for one unit, stock still 0 at the end: a lost update, invisible to "never negative".
    fails: (() => {
      const p = pipeline(
        [
          { id: A, sku: 'SKU-0050' },
          { id: B, sku: 'SKU-0050' },
        ],
        { 'SKU-0050': 1 },
      );
      return { ...p, stock: { start: { 'SKU-0050': 1 }, end: { 'SKU-0050': 0 } } };
    })(),
    damage: /SKU-0050: 1 at the start − 2 CONFIRMED = -1, 0 at the end, 2 reserved: OVERSOLD by 1/,
    empty: { stock: { start: {}, end: {} } },
  },
  'client-error-ratio': {
    spec: { check: 'client-error-ratio', route: 'POST /v1/orders', max: 0.05 },
    holds: {
      window,
      records: [
        ...during(40, 'POST /v1/orders', 201),
        req(9500, 'POST /v1/orders', 500),
        req(200, 'POST /v1/orders', 500),
      ],
    },
    fails: { window, records: [...during(30, 'POST /v1/orders', 201), ...during(10, 'POST /v1/orders', 503)] },
    damage: /\+1\.\d s 503/,
    empty: { window, records: [req(9500, 'POST /v1/orders', 201)] },
  },
  'orders-accepted-during-fault': {
    spec: { check: 'orders-accepted-during-fault' },
    holds: { window, records: during(50, 'POST /v1/orders', 201) },
    fails: { window, records: [...during(40, 'POST /v1/orders', 201), ...during(10, 'POST /v1/orders', 503)] },
    damage: /^$/,
    empty: { window, records: [req(100, 'POST /v1/orders', 201)] },
  },
  'one-order-per-key': {
    spec: { check: 'one-order-per-key' },
    holds: healthy(),
    fails: (() => {
      const p = healthy();
      return {
        ...p,
        orders: [
          ...p.orders,
          {
            id: '00000000-0000-4000-8000-0000000000dd',
            status: 'CONFIRMED' as const,
            customer: p.orders[0].customer,
            items: [],
          },
        ],
      };
    })(),
    damage: /duplicate order: 00000000-0000-4000-8000-0000000000dd/,
    empty: {},
  },
  'replays-flagged': {
    spec: { check: 'replays-flagged' },
    holds: {
      records: [
        req(0, 'POST /v1/orders', 0, 1000, { key: 'k', attempt: 1 }),
        req(1000, 'POST /v1/orders', 201, 20, { key: 'k', attempt: 2, replayed: true }),
      ],
    },
    fails: {
      records: [
        req(0, 'POST /v1/orders', 0, 1000, { key: 'k', attempt: 1 }),
        req(1000, 'POST /v1/orders', 201, 20, { key: 'k', attempt: 2, replayed: false }),
      ],
    },
    damage: /key k retry answered without the replay flag/,
    empty: { records: [req(0, 'POST /v1/orders', 201, 20, { key: 'k', attempt: 1 })] },
  },
  'exactly-one-confirmed': {
    spec: { check: 'exactly-one-confirmed' },
    holds: pipeline(
      [
        { id: A, sku: 'SKU-0050' },
        { id: B, sku: 'SKU-0050', status: 'REJECTED' },
        { id: C, sku: 'SKU-0050', status: 'REJECTED' },
      ],
      { 'SKU-0050': 1 },
    ),
    fails: pipeline(
      [
        { id: A, sku: 'SKU-0050' },
        { id: B, sku: 'SKU-0050' },
        { id: C, sku: 'SKU-0050', status: 'REJECTED' },
      ],
      { 'SKU-0050': 1 },
    ),
    damage: new RegExp(`CONFIRMED beyond the one unit: ${B}`),
    empty: {},
  },
  'p99-during-fault': {
    spec: { check: 'p99-during-fault', route: 'GET /v1/recommendations', maxMs: 450 },
    holds: {
      window,
      records: [...during(100, 'GET /v1/recommendations', 200, 300), req(9500, 'GET /v1/recommendations', 200, 5000)],
    },
    fails: {
      window,
      records: [
        ...during(90, 'GET /v1/recommendations', 200, 300),
        ...during(10, 'GET /v1/recommendations', 200, 2000),
      ],
    },
    damage: /^$/,
    empty: { window, records: [req(9500, 'GET /v1/recommendations', 200)] },
  },
  'fallback-served': {
    spec: { check: 'fallback-served' },
    holds: {
      window,
      records: during(100, 'GET /v1/recommendations', 200, 300, { source: 'fallback' }).map((r) => ({
        ...r,
        t: r.t + 1000,
      })),
    },
    fails: {
      window,
      records: during(100, 'GET /v1/recommendations', 200, 300, { source: 'live' }).map((r) => ({
        ...r,
        t: r.t + 1000,
      })),
    },
    damage: /^$/,
    empty: { window, records: [] },
  },
  'breaker-opened': {
    spec: { check: 'breaker-opened', route: 'GET /v1/recommendations', dependency: 'recommendations' },
    holds: { window, edge: quietEdge(3000, 8000), records: during(100, 'GET /v1/recommendations', 200) },
    fails: { window, edge: busyEdge(), records: during(100, 'GET /v1/recommendations', 200) },
    damage: /no quiet stretch of 1000 ms on gateway->recommendations/,
    empty: { window, edge: quietEdge(3000, 8000), records: [] },
  },
  'orders-db-load-not-amplified': {
    spec: { check: 'orders-db-load-not-amplified', maxRowsPerFallback: 100 },
    holds: {
      window,
      dbSamples: Array.from({ length: 10 }, (_, i) => ({ t: i * 1000, xactCommit: i * 10, tupReturned: i * 100 })),
      records: during(50, 'GET /v1/recommendations', 200, 300, { source: 'fallback' }),
    },
    // 5,000 extra rows read per second during the fault, for 50 fallbacks: ~800 rows per fallback.
    fails: {
      window,
      dbSamples: Array.from({ length: 10 }, (_, i) => ({
        t: i * 1000,
        xactCommit: i * 10 + Math.max(0, i - 1) * 20,
        tupReturned: i * 100 + Math.max(0, i - 1) * 5000,
      })),
      records: during(50, 'GET /v1/recommendations', 200, 300, { source: 'fallback' }),
    },
    damage: /the fallbacks added ~\d+ rows read and ~\d+ transactions/,
    empty: {
      window,
      dbSamples: Array.from({ length: 10 }, (_, i) => ({ t: i * 1000, xactCommit: i * 10, tupReturned: i * 100 })),
      records: during(50, 'GET /v1/recommendations', 200, 300, { source: 'live' }),
    },
  },
  'route-policy-during-fault': {
    spec: { check: 'route-policy-during-fault', route: 'POST /v1/orders', expect: 'fail-closed' },
    holds: {
      window,
      records: during(40, 'POST /v1/orders', 503, 5, { retryAfter: true }).map((r) => ({ ...r, t: r.t + 1500 })),
    },
    fails: { window, records: during(40, 'POST /v1/orders', 201).map((r) => ({ ...r, t: r.t + 1500 })) },
    damage: /^$/,
    empty: { window, records: [] },
  },
  'no-5xx-storm': {
    spec: { check: 'no-5xx-storm' },
    holds: { records: [...during(20, 'GET /v1/products/:sku', 200), ...during(5, 'POST /v1/orders', 503)] },
    fails: { records: [...during(20, 'GET /v1/products/:sku', 200), req(1200, 'POST /v1/orders', 502)] },
    damage: /POST \/v1\/orders \+1\.2 s 502/,
    empty: { records: [] },
  },
  'recovered-after-heal': {
    spec: { check: 'recovered-after-heal' },
    holds: {
      window,
      records: Array.from({ length: 20 }, (_, i) => req(12_500 + i * 10, 'GET /v1/products/:sku', 200)),
    },
    fails: {
      window,
      records: Array.from({ length: 20 }, (_, i) => req(12_500 + i * 10, 'GET /v1/products/:sku', i % 2 ? 200 : 503)),
    },
    damage: /^$/,
    empty: { window, records: during(5, 'GET /v1/products/:sku', 200) },
  },
  'dlq-received': {
    spec: { check: 'dlq-received', topic: 'orders.events.dlq', attempts: 5, maxBlockedMs: 5000 },
    holds: {
      facts: {
        poisons: [
          { eventId: A, kind: 'validation', publishedAt: 1000 },
          { eventId: B, kind: 'handler', publishedAt: 1000 },
        ],
      },
      dlq: [dlqEntry(A, 'validation', 0, 1100), dlqEntry(B, 'handler', 5, 4200)],
    },
    // The handler poison retried forever (its partition blocked 9 s), and the schema poison never dead-lettered.
    fails: {
      facts: {
        poisons: [
          { eventId: A, kind: 'validation', publishedAt: 1000 },
          { eventId: B, kind: 'handler', publishedAt: 1000 },
        ],
      },
      dlq: [dlqEntry(B, 'handler', 12, 10_000)],
    },
    damage: new RegExp(
      `event ${A} \\(validation\\) is not on orders.events.dlq|after 12 attempts, expected 5; its partition was blocked 9000 ms`,
    ),
    empty: { facts: {}, dlq: [] },
  },
  'queries-per-request': {
    spec: { check: 'queries-per-request', route: 'GET /v1/orders', maxQueries: 2 },
    holds: {
      window,
      records: during(40, 'GET /v1/orders', 200, 30, { items: 50, queries: 2 }),
      edge: {
        edge: 'orders->postgres',
        samples: [],
        statements: { atLoadStart: 100, atLoadEnd: 100 + 80 + 3, idleRatePerS: 1 },
      },
    },
    // The service claims 2 queries per page; the wire saw 51.
    fails: {
      window,
      records: during(40, 'GET /v1/orders', 200, 300, { items: 50, queries: 2 }),
      edge: {
        edge: 'orders->postgres',
        samples: [],
        statements: { atLoadStart: 0, atLoadEnd: 40 * 51 + 3, idleRatePerS: 1 },
      },
    },
    damage: /51\.0 statements per page of 50 orders instead of at most 2/,
    empty: {
      window,
      records: during(40, 'GET /v1/orders', 200, 30, { items: 0, queries: 1 }),
      edge: { edge: 'orders->postgres', samples: [], statements: { atLoadStart: 0, atLoadEnd: 40, idleRatePerS: 0 } },
    },
  },
  'trace-no-span-during-open': {
    spec: { check: 'trace-no-span-during-open', route: 'GET /v1/recommendations', dependency: 'recommendations' },
    holds: traceFixture(false),
    fails: traceFixture(true),
    damage: /started at .* while the breaker was open/,
    empty: {
      window,
      records: [],
      spans: [
        span({
          traceId: 'f'.repeat(32),
          startMs: 0,
          endMs: 1,
          service: 'gateway',
          attributes: { 'http.route': '/v1/recommendations' },
        }),
      ],
    },
  },
  'trace-continues': {
    spec: { check: 'trace-continues', services: ['gateway', 'orders', 'notifications'] },
    holds: {
      window,
      records: [req(2000, 'POST /v1/orders', 201, 20, { orderId: A })],
      spans: orderSpans(A, ['gateway', 'orders', 'notifications']),
    },
    fails: {
      window,
      records: [req(2000, 'POST /v1/orders', 201, 20, { orderId: A })],
      spans: orderSpans(A, ['gateway', 'orders']),
    },
    damage: new RegExp(`order ${A}: no span of notifications in its trace`),
    empty: { window, records: [req(200, 'POST /v1/orders', 201, 20, { orderId: A })], spans: [] },
  },
  'lock-wait': {
    spec: { check: 'lock-wait', maxMs: 200 },
    holds: { facts: { migration: { watch: watch(120), relayLagP99Ms: 5 } } },
    fails: { facts: { migration: { watch: watch(2400), relayLagP99Ms: 5 } } },
    damage: /2400 ms: orders waited for RowExclusiveLock during naive/,
    empty: { facts: { migration: { watch: { ...watch(0), samples: 0 }, relayLagP99Ms: null } } },
  },
  'fast-refusals': {
    spec: { check: 'fast-refusals', route: 'POST /v1/orders', maxMs: 2500 },
    holds: {
      window,
      records: [
        ...during(10, 'POST /v1/orders', 201),
        ...during(20, 'POST /v1/orders', 503, 40, { retryAfter: true, problem: true }),
      ],
    },
    // A request that hung until the client gave up, and a refusal without Retry-After.
    fails: {
      window,
      records: [
        ...during(10, 'POST /v1/orders', 201),
        req(1500, 'POST /v1/orders', 0, 5000, { error: 'client timeout' }),
        req(1600, 'POST /v1/orders', 503, 30, { retryAfter: false, problem: true }),
      ],
    },
    damage: /\+1\.5 s: no answer \(client timeout\)[\s\S]*\+1\.6 s: refused with 503, no Retry-After/,
    empty: { window, records: [req(9500, 'POST /v1/orders', 201)] },
  },
  'admitted-p99': {
    spec: { check: 'admitted-p99', route: 'POST /v1/orders', maxMs: 1000 },
    holds: {
      window,
      records: [
        ...during(100, 'POST /v1/orders', 201, 300),
        ...during(100, 'POST /v1/orders', 503, 5000, { retryAfter: true }),
      ],
    },
    fails: {
      window,
      records: [...during(90, 'POST /v1/orders', 201, 300), ...during(10, 'POST /v1/orders', 201, 3000)],
    },
    damage: /^$/,
    empty: { window, records: during(50, 'POST /v1/orders', 503, 5, { retryAfter: true }) },
  },
  'dlq-empty': {
    spec: { check: 'dlq-empty', topic: 'orders.events.dlq' },
    holds: {
      ...healthy(),
      dlq: [dlqEntry(A, 'handler', 5, 0)].map((e) => ({ ...e, key: '00000000-0000-4000-8000-0000000000ff' })),
    },
    fails: { ...healthy(), dlq: [{ ...dlqEntry(A, 'handler', 5, 0), key: B }] },
    damage: new RegExp(`order ${B}: OrderConfirmed dead-lettered after 5 attempts`),
    empty: { dlq: [] },
  },
  'processing-delay': {
    spec: { check: 'processing-delay', maxMs: 5000 },
    holds: delayed(800),
    fails: delayed(9000),
    damage: new RegExp(`order ${A} delivered 9000 ms after its event was published`),
    empty: { bus: [], deliveries: [] },
  },
  'repair-exact': {
    spec: { check: 'repair-exact' },
    holds: {
      facts: {
        repair: { lost: [A, B], named: [A, B], first: [{ orderId: A }, { orderId: B }], converged: true, second: [] },
      },
    },
    // reconcile named an order that was not lost, missed one, and the second repair did something.
    fails: {
      facts: {
        repair: {
          lost: [A, B],
          named: [A, C],
          first: [{ orderId: A }, { orderId: C }],
          converged: true,
          second: [{ orderId: A }],
        },
      },
    },
    damage: new RegExp(
      `named but not lost: ${C}[\\s\\S]*lost but not named: ${B}[\\s\\S]*the second repair republished ${A} again`,
    ),
    empty: { facts: { repair: { lost: [], named: [], first: [], converged: true, second: [] } } },
  },
  'no-unauthorized-read': {
    spec: { check: 'no-unauthorized-read' },
    holds: { facts: attackFacts() },
    // ORDERS_READ=any-caller: another customer's order answered 200, with its owner in the body.
    fails: {
      facts: attackFacts({
        attempts: [
          ...ALL_REFUSED,
          attempt('idor-read', 'GET', `/v1/orders/${B}`, 200, {
            contentType: 'application/json',
            leaked: ['customer chaos-r1-007'],
          }),
        ],
      }),
    },
    damage: new RegExp(`idor-read: GET /v1/orders/${B} → 200, leaked customer chaos-r1-007`),
    empty: { facts: attackFacts({ attempts: [] }) },
  },
  'no-unauthorized-write': {
    spec: { check: 'no-unauthorized-write' },
    holds: { facts: attackFacts(), stock: attackStock },
    // A forged admin token restocked the SKU, and a forged customer placed an order.
    fails: {
      facts: attackFacts({
        attempts: [...ALL_REFUSED, attempt('alg-none', 'PUT', '/v1/admin/products/SKU-0046/stock', 200)],
      }),
      stock: { start: { 'SKU-0046': 50 }, end: { 'SKU-0046': 424242 } },
      orders: [{ id: C, status: 'CONFIRMED', customer: 'chaos-r1-x-none', items: [{ sku: 'SKU-0046', quantity: 1 }] }],
    },
    damage: new RegExp(
      `order ${C} of chaos-r1-x-none[\\s\\S]*SKU-0046's stock set to the attacker's 424242[\\s\\S]*alg-none: PUT`,
    ),
    empty: { facts: attackFacts({ attempts: ALL_REFUSED.filter((a) => a.method === 'GET') }), stock: attackStock },
  },
  'refusals-problem-json': {
    spec: { check: 'refusals-problem-json' },
    holds: { facts: attackFacts() },
    // The IDOR read confirmed the order exists (403), and a refusal came as text/html.
    fails: {
      facts: attackFacts({
        attempts: [
          ...ALL_REFUSED,
          attempt('idor-read', 'GET', `/v1/orders/${B}`, 403),
          attempt('expired', 'GET', '/v1/orders?limit=50', 401, { contentType: 'text/html' }),
        ],
      }),
    },
    damage:
      /idor-read: GET \/v1\/orders\/\{id\} → 403 application\/problem\+json \(expected 404 problem\+json\)[\s\S]*expired: GET \/v1\/orders\?limit=50 → 401 text\/html/,
    empty: { facts: attackFacts({ attempts: [] }) },
  },
  'internal-ports-closed': {
    spec: { check: 'internal-ports-closed' },
    holds: { facts: attackFacts() },
    fails: {
      facts: attackFacts({
        bypass: [
          { from: 'loopback', to: 'inventory grpc :7052', reached: true, control: true, detail: 'connected' },
          {
            from: 'the network (10.0.0.5)',
            to: 'inventory grpc :7052',
            reached: true,
            control: false,
            detail: 'connected',
          },
        ],
      }),
    },
    damage: /the network \(10\.0\.0\.5\) reached inventory grpc :7052/,
    // A machine with no address but loopback: nothing was tried around the gateway.
    empty: {
      facts: attackFacts({
        bypass: [{ from: 'loopback', to: 'orders grpc :7051', reached: true, control: true, detail: 'connected' }],
      }),
    },
  },
  'replay-effect-once': {
    spec: { check: 'replay-effect-once' },
    holds: {
      facts: {
        replay: {
          dlqId: 'orders.events.dlq:0:7',
          orderId: A,
          eventId: 'e-1',
          replays: ['orders.events:0:90', 'orders.events:0:91'],
          consumed: true,
          deliveries: 1,
          inboxRows: 1,
        },
      },
    },
    // Replayed twice, delivered twice: the inbox did not dedupe the event id the replay kept.
    fails: {
      facts: {
        replay: {
          dlqId: 'orders.events.dlq:0:7',
          orderId: A,
          eventId: 'e-1',
          replays: ['orders.events:0:90', 'orders.events:0:91'],
          consumed: true,
          deliveries: 2,
          inboxRows: 0,
        },
      },
    },
    damage: new RegExp(
      `order ${A} was notified 2 times for one event replayed 2 times: the replays were not deduplicated`,
    ),
    // The consumer never got past the replays: nothing can be said of their effect.
    empty: {
      facts: {
        replay: {
          dlqId: 'orders.events.dlq:0:7',
          orderId: A,
          eventId: 'e-1',
          replays: ['orders.events:0:90', 'orders.events:0:91'],
          consumed: false,
          deliveries: 0,
          inboxRows: 0,
        },
      },
    },
  },
  'read-your-writes': {
    spec: { check: 'read-your-writes' },
    holds: {
      records: [
        req(1200, 'GET /v1/orders/:id', 200, 15, { orderId: A }),
        req(5000, 'GET /v1/orders/:id', 200, 15, { orderId: B }),
      ],
    },
    // B was not found right after its 201: the read came from somewhere that had not seen the write yet.
    fails: {
      records: [
        req(1200, 'GET /v1/orders/:id', 200, 15, { orderId: A }),
        req(5000, 'GET /v1/orders/:id', 404, 15, { orderId: B, stale: 'HTTP 404' }),
      ],
    },
    damage: new RegExp(`order ${B} read back at 5000 ms: HTTP 404`),
    empty: { records: [req(1200, 'POST /v1/orders', 201, 15, { orderId: A })] },
  },
  'eventual-read-converges': {
    spec: { check: 'eventual-read-converges', maxMs: 2000 },
    holds: feedRun({ asOf: 'applied' }),
    // One outcome committed during the fault reached the feed 6 s after the heal.
    fails: feedRun({ asOf: 'applied', lateOrder: 3000 }),
    damage: /order .*-00000000000e: outcome reached the feed 6000 ms after the heal/,
    empty: { window: { injectedAt: 1000, healedAt: 9000 } },
  },
  'as-of-honest': {
    spec: { check: 'as-of-honest', toleranceMs: 250, maxMs: 2000 },
    holds: feedRun({ asOf: 'applied' }),
    // The naive feed: "as of now", while the outcomes committed during the fault were not applied.
    fails: feedRun({ asOf: 'now' }),
    damage: /poll at \d+ ms said "as of \d+ ms" but \d+ event\(s\) committed/,
    // The feed never went stale during the fault: the claim was never tested.
    empty: feedRun({ asOf: 'applied', faultless: true }),
  },
  'wal-retained': {
    spec: { check: 'wal-retained', minBytes: 2_000_000, maxBytes: 1_000_000 },
    holds: { dbSamples: walSamples(1_000_000, 300_000) },
    // The relay came back but the slot kept its WAL: nothing confirmed after the heal. (A lost slot: see below.)
    fails: { dbSamples: walSamples(1_000_000, 9_000_000) },
    damage: /the relay still had 8\.58 MiB unconfirmed after the heal: it does not confirm/,
    empty: { dbSamples: walSamples(1_000_000, 300_000).map(({ slotRetained: _w, ...s }) => s) },
  },
  'alert-fired': {
    spec: { check: 'alert-fired', alert: 'ReplicationSlotRetainingWal', metric: 'replication_slot_retained_wal_bytes' },
    holds: {
      prometheus: {
        'max_over_time(replication_slot_retained_wal_bytes': 9_000_000,
        'ALERTS{alertname="ReplicationSlotRetainingWal",alertstate="firing"}': 1,
      },
    },
    fails: { prometheus: { 'max_over_time(replication_slot_retained_wal_bytes': 9_000_000 } },
    damage: /ReplicationSlotRetainingWal never fired, though replication_slot_retained_wal_bytes reached 9000000/,
    // Prometheus never had the metric (the owner not scraped): nothing the alert could have fired on.
    empty: { prometheus: {} },
  },
  'slot-recreated': {
    spec: { check: 'slot-recreated' },
    holds: { prometheus: { 'outbox_relay_streaming{source="orders"}': 1, outbox_relay_slot_recreated_total: 1 } },
    // The relay streamed on from a slot it never found lost.
    fails: { prometheus: { 'outbox_relay_streaming{source="orders"}': 1 } },
    damage: /the relay never said its slot was lost/,
    empty: { prometheus: {} },
  },
  'pipeline-history': {
    spec: { check: 'pipeline-history' },
    holds: healthy(),
    // B's outcome event never reached notifications: lost there and after, with its trace id.
    fails: (() => {
      const p = healthy();
      return {
        ...p,
        inbox: p.inbox.filter(
          (i) => !(i.service === 'notifications' && p.outbox.some((o) => o.orderId === B && o.eventId === i.eventId)),
        ),
        deliveries: p.deliveries.filter((d) => d.orderId !== B),
      };
    })(),
    damage: new RegExp(`lost at inbox:notifications: 1 orders, e.g. ${B} \\(trace 0{31}2\\)`),
    empty: {},
  },
};

/** A's outcome event published at 1,000 ms, delivered `ms` later; B's a little after its event. */
function delayed(ms: number): EvidenceData {
  const p = pipeline([{ id: A }, { id: B }]);
  const bus = p.bus.map((m) => ({ ...m, timestamp: 1000 }));
  const deliveries = p.deliveries.map((d) => ({ ...d, deliveredAt: d.orderId === A ? 1000 + ms : 1100 }));
  return { ...p, bus, deliveries };
}

function watch(longest: number) {
  return {
    budgetMs: 200,
    longestLockWaitMs: longest,
    longestApplicationWaitMs: longest,
    samples: 400,
    intervalMs: 25,
    maxSlotLagBytes: 4096,
    worstWaits: [
      { ms: longest, app: 'orders', mode: 'RowExclusiveLock', step: 'naive', query: 'INSERT INTO orders …' },
    ],
  };
}

function orderSpans(orderId: string, services: string[]): StoredSpan[] {
  const traceId = 'a'.repeat(32);
  return services.map((service, i) =>
    span({
      traceId,
      startMs: 1_700_000_002_000 + i,
      endMs: 1_700_000_002_010 + i,
      service,
      attributes: { 'order.id': orderId },
    }),
  );
}

/**
 * The relay slot's retained WAL each second of a run (fault 1000–9000 ms): +400 kB a second while it held, then
 * `after`.
 */
function walSamples(before: number, after: number) {
  return Array.from({ length: 14 }, (_, i) => {
    const t = i * 1000;
    const slotRetained = t <= 1000 ? before : t <= 9000 ? before + (t - 1000) * 400 : after;
    return {
      t,
      xactCommit: i * 10,
      tupReturned: i * 100,
      slotRetained,
      slotUnconfirmed: t <= 9000 ? slotRetained : after,
      slotStatus: 'reserved',
    };
  });
}

/**
 * A consistency run (fault 1000–9000 ms): an order placed every 200 ms from 100 to 11900 ms (OrderPlaced published
 * 5 ms after its commit) and its outcome committed 100 ms later, in the feed 50 ms after that; what was committed
 * while the fault held is published, and in the feed, just after the heal (`lateOrder`: that outcome 6 s later). A feed
 * poll every 250 ms carries the as-of a correct feed reports (every event committed up to it reflected) or "now".
 * `faultless`: nothing waits for the heal.
 */
function feedRun(o: {
  asOf: 'applied' | 'now';
  lateOrder?: number;
  faultless?: boolean;
  previousRunUntil?: number;
}): EvidenceData {
  const start = 1_700_000_000_000;
  const held = (t: number) => !o.faultless && t >= 1000 && t <= 9000;
  const events = Array.from({ length: 60 }, (_, i) => {
    const id = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
    const placed = 100 + i * 200;
    const outcome = placed + 100;
    return [
      { id, eventId: `p-${id}`, type: 'OrderPlaced', committed: placed, reflected: held(placed) ? 9010 : placed + 5 },
      {
        id,
        eventId: `c-${id}`,
        type: 'OrderConfirmed',
        committed: outcome,
        reflected: outcome === o.lateOrder ? 15_000 : held(outcome) ? 9050 + (outcome % 7) : outcome + 50,
      },
    ];
  }).flat();
  const asOfAt = (t: number) => {
    const pending = events.filter((e) => e.committed <= t && e.reflected > t).map((e) => e.committed);
    return Math.min(t, (pending.length ? Math.min(...pending) : Infinity) - 1);
  };
  // previousRunUntil: until then the feed still answers with the previous run's last event, 11.6 s before this load.
  const asOf = (t: number) =>
    o.previousRunUntil !== undefined && t < o.previousRunUntil ? -11_580 : o.asOf === 'now' ? t : asOfAt(t);
  const records: RequestRecord[] = Array.from({ length: 48 }, (_, i) =>
    req(i * 250, 'GET /v1/notifications', 200, 10, { asOf: asOf(i * 250) }),
  );
  return {
    window: { injectedAt: 1000, healedAt: 9000 },
    records,
    outbox: events.map((e) => ({
      source: 'orders',
      eventId: e.eventId,
      orderId: e.id,
      type: e.type,
      traceparent: null,
      createdAt: start + e.committed,
    })),
    notifications: events
      .filter((e) => e.type === 'OrderConfirmed')
      .map((e) => ({ orderId: e.id, kind: 'ORDER_CONFIRMED', createdAt: start + e.reflected })),
    bus: events.map((e, i) => ({
      topic: 'orders.events',
      partition: 0,
      offset: String(i),
      key: e.id,
      eventId: e.eventId,
      type: e.type,
      traceparent: null,
      timestamp: start + (e.type === 'OrderPlaced' ? e.reflected : e.reflected - 45),
    })),
  };
}

/**
 * 20 requests in the fault window, 10 of them short-circuited by the open breaker; with a call made while it was open,
 * or not.
 */
function traceFixture(callWhileOpen: boolean): EvidenceData {
  const start = 1_700_000_000_000;
  const spans: StoredSpan[] = [];
  const records: RequestRecord[] = [];
  for (let i = 0; i < 20; i++) {
    const t = start + 2000 + i * 200;
    const traceId = i.toString(16).padStart(32, '0');
    const rejected = i >= 5 && i < 15;
    spans.push(
      span({
        traceId,
        startMs: t,
        endMs: t + 5,
        service: 'gateway',
        kind: 2,
        attributes: { 'http.route': '/v1/recommendations' },
        events: rejected ? [{ name: 'breaker.rejected', attributes: { 'peer.service': 'recommendations' } }] : [],
      } as never),
    );
    if (!rejected)
      spans.push(
        span({
          traceId,
          startMs: t + 1,
          endMs: t + 4,
          service: 'gateway',
          kind: 3,
          attributes: { 'rpc.service': 'faultline.recommendations.v1.RecommendationsService' },
        }),
      );
    records.push(req(t - start, 'GET /v1/recommendations', 200));
  }
  if (callWhileOpen)
    spans.push(
      span({
        traceId: '9'.repeat(32),
        startMs: start + 3500,
        endMs: start + 3600,
        service: 'gateway',
        kind: 3,
        attributes: { 'rpc.service': 'faultline.recommendations.v1.RecommendationsService' },
      }),
    );
  return { window: { injectedAt: 1000, healedAt: 9000 }, records, spans };
}

describe("as-of-honest at the load's start", () => {
  const judge = async (data: EvidenceData) =>
    (await evaluate(fixtureEvidence(data), [{ check: 'as-of-honest', toleranceMs: 250, maxMs: 2000 }]))[0];
  it("does not hold the previous run's as-of against the feed until the run's events are applied (within 5 s)", async () => {
    expect(await judge(feedRun({ asOf: 'applied', previousRunUntil: 2300 }))).toMatchObject({ ok: true });
  });
  it('fails a feed whose as-of stays before the run for more than 5 s', async () => {
    const r = await judge(feedRun({ asOf: 'applied', previousRunUntil: 6000 }));
    expect(r).toMatchObject({ ok: false });
    expect(r.damage?.join(' ')).toMatch(
      /the as-of did not enter the run within 5 s of the load's start \(at 6000 ms\)/,
    );
  });
});

describe('every verdict check', () => {
  it('has a holding, a failing and an empty fixture here', () => {
    expect(Object.keys(CASES).sort()).toEqual([...VERDICT_CHECKS].sort());
  });

  describe.each(Object.entries(CASES))('%s', (_name, c) => {
    it('holds on its holding fixture', async () => {
      const [result] = await evaluate(fixtureEvidence(c.holds), [c.spec]);
      expect({ ok: result.ok, inconclusive: result.inconclusive, detail: result.detail }).toMatchObject({
        ok: true,
        inconclusive: undefined,
      });
    });
    it('fails on its failing fixture, with the damage named', async () => {
      const [result] = await evaluate(fixtureEvidence(c.fails), [c.spec]);
      expect({ ok: result.ok, inconclusive: result.inconclusive, detail: result.detail }).toMatchObject({
        ok: false,
        inconclusive: undefined,
      });
      if (c.damage.source !== '^$') expect(result.damage?.join('\n')).toMatch(c.damage);
    });
    it('is INCONCLUSIVE with nothing to judge', async () => {
      const [result] = await evaluate(fixtureEvidence(c.empty), [c.spec]);
      expect({ ok: result.ok, inconclusive: result.inconclusive, detail: result.detail }).toMatchObject({
        ok: false,
        inconclusive: true,
      });
    });
  });
});

describe('wal-retained', () => {
  it('fails on a slot the server LOST (no restart point left, so no retained figure in those samples)', async () => {
    const samples = walSamples(1_000_000, 300_000).map((x) =>
      x.t >= 5000 && x.t <= 9000
        ? {
            t: x.t,
            xactCommit: x.xactCommit,
            tupReturned: x.tupReturned,
            slotUnconfirmed: x.slotUnconfirmed,
            slotStatus: 'lost',
          }
        : x,
    );
    const [result] = await evaluate(fixtureEvidence({ dbSamples: samples }), [
      { check: 'wal-retained', minBytes: 1_000_000, maxBytes: 1_000_000 },
    ]);
    expect({ ok: result.ok, inconclusive: result.inconclusive }).toEqual({ ok: false, inconclusive: undefined });
    expect(result.damage?.join(' ')).toMatch(
      /the slot was LOST \(its WAL removed\) at 5000 ms: events in between never left/,
    );
  });
});

describe('settling a judgement', () => {
  it('makes a check whose evaluator throws INCONCLUSIVE, never a pass', async () => {
    const broken = { ...fixtureEvidence({}), orders: () => Promise.reject(new Error('connection refused')) };
    const [result] = await evaluate(broken, [{ check: 'all-orders-final' }]);
    expect(result).toMatchObject({ ok: false, inconclusive: true, detail: 'could not evaluate: connection refused' });
  });

  it('makes a window-bound check INCONCLUSIVE when the fault window never happened', async () => {
    const [result] = await evaluate(fixtureEvidence({ window: {}, records: during(10, 'POST /v1/orders', 201) }), [
      { check: 'client-error-ratio', route: 'POST /v1/orders', max: 0 },
    ]);
    expect(result).toMatchObject({ inconclusive: true });
    expect(result.detail).toMatch(/fault window did not happen/);
  });

  it('judges an error ratio over the fault window only, not the whole run', async () => {
    // 10 failures in 20 requests of the fault, diluted to 10 in 120 over the whole run: the window decides.
    const records = [
      ...during(10, 'POST /v1/orders', 201),
      ...during(10, 'POST /v1/orders', 503),
      ...Array.from({ length: 100 }, (_, i) => req(10_000 + i, 'POST /v1/orders', 201)),
    ];
    const [result] = await evaluate(fixtureEvidence({ window, records }), [
      { check: 'client-error-ratio', route: 'POST /v1/orders', max: 0.1 },
    ]);
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/10 of 20 POST \/v1\/orders sent during the fault/);
  });
});
