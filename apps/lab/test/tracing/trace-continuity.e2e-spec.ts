// One order is ONE trace (docs/architecture.md, "Observability"): a whole lab (offset 3800: gateway on 11880)
// exporting to an OTLP receiver this test runs, one order through the gateway, and assertions on the spans
// themselves: every service of the flow in one trace id, the relay's producer span a child of the span that wrote the
// outbox row, each consumer span a child of the producer span of its message, and orders' log lines carrying the
// trace id.
import { Client } from 'pg';
import { eventually, labCli, repoRoot } from '@faultline/testing';
import { postgresUrl } from '../../src/infra/infra';
import { resolveLayout } from '../../src/layout/lab-layout';
import { startOtlpReceiver, type OtlpReceiver, type StoredSpan } from '../../src/tracing/otlp-receiver';
import { formatSpanTree } from '../../src/tracing/span-tree';

const ENV = { LAB_STATE_DIR: '.lab/test-tracing', LAB_PORT_OFFSET: '3800', LAB_GATEWAY_PORT: '' };
const GATEWAY = `http://127.0.0.1:${8080 + 3800}`;
const SERVICES = [
  'orders',
  'inventory',
  'recommendations',
  'notifications',
  'outbox-relay-orders',
  'outbox-relay-inventory',
  'gateway',
];
const PRODUCER = 4;
const CONSUMER = 5;

const cli = labCli(ENV);
const spans: StoredSpan[] = [];
const clients = new Map<string, Client>();
let receiver: OtlpReceiver;

async function sql(
  database: 'orders' | 'inventory',
  text: string,
  params: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  let client = clients.get(database);
  if (!client) {
    client = new Client({ connectionString: postgresUrl(resolveLayout(ENV, repoRoot), database) });
    await client.connect();
    clients.set(database, client);
  }
  return (await client.query(text, params)).rows;
}

beforeAll(async () => {
  receiver = await startOtlpReceiver(0, (batch) => spans.push(...batch));
  // The relays name themselves after their source (RELAY_SOURCE): no OTEL_SERVICE_NAME needed.
  const sets = SERVICES.flatMap((service) => ['--set', `${service}.OTEL_EXPORTER_OTLP_ENDPOINT=${receiver.endpoint}`]);
  const up = await cli.exec('up', ...sets);
  if (up.code !== 0) {
    await cli.exec('down');
    throw new Error(`lab up failed:\n${up.stderr}`);
  }
}, 300_000);

afterAll(async () => {
  await Promise.all([...clients.values()].map((c) => c.end()));
  await cli.exec('down');
  await receiver?.close();
}, 120_000);

/** The PRODUCER span that published event `eventId`, from the given relay. */
function producerOf(eventId: string, service: string): StoredSpan | undefined {
  return spans.find(
    (s) => s.kind === PRODUCER && s.service === service && s.attributes['messaging.message.id'] === eventId,
  );
}
/** The CONSUMER span in which `service` processed event `eventId`. */
function consumerOf(eventId: string, service: string): StoredSpan | undefined {
  return spans.find(
    (s) => s.kind === CONSUMER && s.service === service && s.attributes['messaging.message.id'] === eventId,
  );
}
function must(span: StoredSpan | undefined, what: string): StoredSpan {
  if (!span) throw new Error(`no span: ${what}`);
  return span;
}
const spanIdOf = (traceparent: unknown) => String(traceparent).split('-')[2];
const traceIdOf = (traceparent: unknown) => String(traceparent).split('-')[1];

describe('trace continuity', () => {
  it('one order through the gateway is one trace across gRPC, both outboxes, both relays and every Kafka hop', async () => {
    const token = await cli.exec('token', '--sub', 'trace-alice', '--role', 'customer', '--tier', 'free');
    expect(token.code).toBe(0);
    const auth = { authorization: `Bearer ${token.stdout.trim()}` };
    const placed = await fetch(`${GATEWAY}/v1/orders`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': `trace-${Date.now()}` },
      body: JSON.stringify({ items: [{ sku: 'SKU-0007', quantity: 1 }] }),
    });
    expect(placed.status).toBe(201);
    const orderId = ((await placed.json()) as { id: string }).id;
    // The gateway answers with its own span's traceparent: the trace every other span must belong to.
    const traceId = traceIdOf(placed.headers.get('traceparent'));
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    await eventually(
      'the order CONFIRMED',
      async () => {
        const response = await fetch(`${GATEWAY}/v1/orders/${orderId}`, { headers: auth });
        const body = (await response.json()) as { status?: string };
        return body.status === 'CONFIRMED' ? body : undefined;
      },
      60_000,
      250,
    );
    await eventually(
      'the notification',
      async () => {
        const response = await fetch(`${GATEWAY}/v1/notifications`, { headers: auth });
        const body = (await response.json()) as { orderId: string }[];
        return body.some((n) => n.orderId === orderId) ? body : undefined;
      },
      60_000,
      250,
    );

    // The outbox rows: what each writing span stored.
    const [placedRow] = await sql(
      'orders',
      "SELECT id, tracingspancontext FROM outbox WHERE aggregateid = $1 AND type = 'OrderPlaced'",
      [orderId],
    );
    const [reservedRow] = await sql(
      'inventory',
      "SELECT id, tracingspancontext FROM outbox WHERE aggregateid = $1 AND type = 'InventoryReserved'",
      [orderId],
    );
    const [confirmedRow] = await sql(
      'orders',
      "SELECT id, tracingspancontext FROM outbox WHERE aggregateid = $1 AND type = 'OrderConfirmed'",
      [orderId],
    );
    for (const row of [placedRow, reservedRow, confirmedRow]) {
      expect(row).toBeDefined();
      expect(traceIdOf(row['tracingspancontext'])).toBe(traceId);
    }
    const placedEvent = String(placedRow['id']);
    const reservedEvent = String(reservedRow['id']);
    const confirmedEvent = String(confirmedRow['id']);

    // Spans arrive about a second after they end (batch export); wait for the last hops' consumer spans.
    await eventually(
      'the spans of every hop',
      async () =>
        producerOf(placedEvent, 'outbox-relay-orders') &&
        consumerOf(placedEvent, 'inventory') &&
        producerOf(reservedEvent, 'outbox-relay-inventory') &&
        consumerOf(reservedEvent, 'orders') &&
        producerOf(confirmedEvent, 'outbox-relay-orders') &&
        consumerOf(confirmedEvent, 'notifications') &&
        consumerOf(confirmedEvent, 'recommendations') &&
        spans.some((s) => s.spanId === spanIdOf(placedRow['tracingspancontext']))
          ? true
          : undefined,
      60_000,
      500,
    );

    const trace = spans.filter((s) => s.traceId === traceId);
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    try {
      // Every service of the flow, one trace id.
      expect([...new Set(trace.map((s) => s.service))].sort()).toEqual([...SERVICES].sort());
      expect(trace.filter((s) => s.attributes['order.id'] === orderId).every((s) => s.traceId === traceId)).toBe(true);
      expect(spans.filter((s) => s.attributes['order.id'] === orderId && s.traceId !== traceId)).toEqual([]);

      // gateway → orders over gRPC: orders' server span descends from the gateway's request span.
      const writer = byId.get(spanIdOf(placedRow['tracingspancontext']));
      expect(writer?.service).toBe('orders');
      let ancestor = writer;
      while (ancestor && ancestor.service !== 'gateway')
        ancestor = ancestor.parentSpanId ? byId.get(ancestor.parentSpanId) : undefined;
      expect(ancestor?.service).toBe('gateway');

      // Across each outbox row: the relay's producer span is a child of the span that wrote the row.
      const placedProducer = must(
        producerOf(placedEvent, 'outbox-relay-orders'),
        'producerOf placedEvent, outbox-relay-orders',
      );
      expect(placedProducer.traceId).toBe(traceId);
      expect(placedProducer.parentSpanId).toBe(spanIdOf(placedRow['tracingspancontext']));
      const reservedProducer = must(
        producerOf(reservedEvent, 'outbox-relay-inventory'),
        'producerOf reservedEvent, outbox-relay-inventory',
      );
      expect(reservedProducer.parentSpanId).toBe(spanIdOf(reservedRow['tracingspancontext']));
      const confirmedProducer = must(
        producerOf(confirmedEvent, 'outbox-relay-orders'),
        'producerOf confirmedEvent, outbox-relay-orders',
      );
      expect(confirmedProducer.parentSpanId).toBe(spanIdOf(confirmedRow['tracingspancontext']));

      // Across each Kafka hop: the consumer span is a child of the producer span of its message...
      const inventoryConsumer = must(consumerOf(placedEvent, 'inventory'), 'consumerOf placedEvent, inventory');
      expect(inventoryConsumer.parentSpanId).toBe(placedProducer.spanId);
      const sagaConsumer = must(consumerOf(reservedEvent, 'orders'), 'consumerOf reservedEvent, orders');
      expect(sagaConsumer.parentSpanId).toBe(reservedProducer.spanId);
      expect(
        must(consumerOf(confirmedEvent, 'notifications'), 'consumerOf confirmedEvent, notifications').parentSpanId,
      ).toBe(confirmedProducer.spanId);
      expect(
        must(consumerOf(confirmedEvent, 'recommendations'), 'consumerOf confirmedEvent, recommendations').parentSpanId,
      ).toBe(confirmedProducer.spanId);
      // ...and the next outbox row was written inside that consumer's span.
      expect(byId.get(spanIdOf(reservedRow['tracingspancontext']))?.service).toBe('inventory');
      expect(byId.get(spanIdOf(confirmedRow['tracingspancontext']))?.service).toBe('orders');
      for (const row of [reservedRow, confirmedRow]) {
        let span = byId.get(spanIdOf(row['tracingspancontext']));
        while (span && span.kind !== CONSUMER) span = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
        expect(span).toBeDefined();
      }
      // Every span of the trace hangs from the gateway's root: no orphan, no second root.
      const roots = trace.filter((s) => !s.parentSpanId || !byId.has(s.parentSpanId));
      expect(roots.map((s) => s.service)).toEqual(['gateway']);
      if (process.env['FAULTLINE_TEST_PRINT_TRACE']) process.stderr.write(`${formatSpanTree(spans, traceId)}\n`);
    } catch (error) {
      process.stderr.write(`${formatSpanTree(spans, traceId)}\n`);
      throw error;
    }

    // orders' log lines written for this request carry the trace id.
    const logs = await cli.exec('logs', 'orders', '-n', '2000');
    const lines = logs.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { traceId?: string; spanId?: string; msg?: string });
    const ofTrace = lines.filter((l) => l.traceId === traceId);
    expect(ofTrace.length).toBeGreaterThan(0);
    expect(ofTrace.every((l) => /^[0-9a-f]{16}$/.test(l.spanId ?? ''))).toBe(true);
  });
});
