// The order saga against a full lab (real Postgres, Kafka, relay, consumers), on its own state folder and ports
// (offset 2600). Each test asserts on the data: orders by state, stock, notifications, queries counted.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { Kafka, logLevel } from 'kafkajs';
import { EVENT_HEADERS, ORDERS_EVENTS_TOPIC } from '@faultline/contracts';
import { eventually } from '@faultline/testing';
import {
  awaitFinal,
  orderOf,
  placeOrderRequest,
  requestHash,
  SagaLab,
  startExtraOrders,
  startSagaLab,
} from './saga-lab';

let lab: SagaLab;
const extra: ChildProcess[] = [];

beforeAll(async () => {
  lab = await startSagaLab('.lab/test-saga', 2600);
}, 300_000);

afterAll(async () => {
  for (const child of extra) child.kill('SIGKILL');
  await lab?.close();
}, 120_000);

describe('order saga', () => {
  it('confirms an order end to end: PENDING, then CONFIRMED, stock reserved, one notification', async () => {
    const [before] = await lab.sql('inventory', 'SELECT available FROM products WHERE sku = $1', ['SKU-0010']);
    const placed = await lab.orders.PlaceOrder(placeOrderRequest('alice', [{ sku: 'SKU-0010', quantity: 3 }]));
    expect(placed.order?.status).toBe('PENDING');
    const final = await awaitFinal(lab, [orderOf(placed).id]);
    expect(final.get(orderOf(placed).id)).toBe('CONFIRMED');
    const [after] = await lab.sql('inventory', 'SELECT available FROM products WHERE sku = $1', ['SKU-0010']);
    expect(Number(after['available'])).toBe(Number(before['available']) - 3);
    const notes = await eventually('the notification', async () => {
      const rows = await lab.sql('notifications', 'SELECT kind FROM notifications WHERE order_id = $1', [
        orderOf(placed).id,
      ]);
      return rows.length > 0 ? rows : undefined;
    });
    expect(notes).toEqual([{ kind: 'ORDER_CONFIRMED' }]);
  });

  it('rejects an order for an unknown SKU and reserves nothing of it (all or nothing)', async () => {
    const [before] = await lab.sql('inventory', 'SELECT available FROM products WHERE sku = $1', ['SKU-0011']);
    const placed = await lab.orders.PlaceOrder(
      placeOrderRequest('bob', [
        { sku: 'SKU-0011', quantity: 1 },
        { sku: 'SKU-9999', quantity: 1 },
      ]),
    );
    const final = await awaitFinal(lab, [orderOf(placed).id]);
    expect(final.get(orderOf(placed).id)).toBe('REJECTED');
    const [after] = await lab.sql('inventory', 'SELECT available FROM products WHERE sku = $1', ['SKU-0011']);
    expect(after['available']).toBe(before['available']);
    const [order] = await lab.sql('orders', 'SELECT reject_reason FROM orders WHERE id = $1', [orderOf(placed).id]);
    expect(order['reject_reason']).toBe('UNKNOWN_SKU');
  });

  it('last item: stock 1 and 50 concurrent buyers → exactly one CONFIRMED, 49 REJECTED, stock 0, never negative', async () => {
    await lab.inventory.SetStock({ sku: 'SKU-0020', available: 1 });
    const placed = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        lab.orders.PlaceOrder(
          placeOrderRequest(`customer-${String(i + 1).padStart(4, '0')}`, [{ sku: 'SKU-0020', quantity: 1 }]),
        ),
      ),
    );
    const final = await awaitFinal(
      lab,
      placed.map((p) => orderOf(p).id),
    );
    const statuses = [...final.values()];
    expect(statuses.filter((s) => s === 'CONFIRMED')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'REJECTED')).toHaveLength(49);
    const [product] = await lab.sql('inventory', 'SELECT available FROM products WHERE sku = $1', ['SKU-0020']);
    expect(product['available']).toBe(0);
    // The CHECK constraint stands behind the conditional update: a negative stock cannot even be written.
    await expect(
      lab.sql('inventory', 'UPDATE products SET available = -1 WHERE sku = $1', ['SKU-0020']),
    ).rejects.toThrow(/check constraint/);
  });

  it('idempotency: 20 concurrent requests with one key create exactly one order; replays return the identical order', async () => {
    const key = `key-${randomUUID()}`;
    const request = placeOrderRequest('carol', [{ sku: 'SKU-0030', quantity: 1 }], key);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => lab.orders.PlaceOrder(request)));
    const ok = results.filter(
      (r): r is PromiseFulfilledResult<Awaited<ReturnType<typeof lab.orders.PlaceOrder>>> => r.status === 'fulfilled',
    );
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(new Set(ok.map((r) => orderOf(r.value).id)).size).toBe(1);
    for (const r of refused) expect(r.reason.code).toBe(GrpcStatus.ABORTED); // in flight → the gateway's 409
    const [count] = await lab.sql(
      'orders',
      'SELECT count(*)::int AS n FROM idempotency_keys k JOIN orders o ON o.id = k.order_id WHERE k.customer_id = $1 AND k.key = $2',
      ['carol', key],
    );
    expect(count['n']).toBe(1);
    const first = ok[0].value;
    const replays = [await lab.orders.PlaceOrder(request), await lab.orders.PlaceOrder(request)];
    for (const replay of replays) {
      expect(replay.replayed).toBe(true);
      expect(replay.responseStatus).toBe(201);
      expect(replay.order).toEqual(first.order);
    }
    await expect(
      lab.orders.PlaceOrder({ ...request, requestHash: requestHash('something else') }),
    ).rejects.toMatchObject({ code: GrpcStatus.FAILED_PRECONDITION });
  });

  it('N+1: listing 50 orders makes 51 queries with ORDERS_LIST=naive and at most 2 batched', async () => {
    const customer = `lister-${randomUUID().slice(0, 8)}`;
    for (let i = 0; i < 50; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, () =>
          lab.orders.PlaceOrder(placeOrderRequest(customer, [{ sku: 'SKU-0040', quantity: 1 }])),
        ),
      );
    }
    const batched = await lab.orders.ListOrders({ customerId: customer, isAdmin: false, limit: 50, cursor: '' });
    expect(batched.items).toHaveLength(50);
    expect(batched.queryCount).toBeLessThanOrEqual(2);
    const naiveOrders = await startExtraOrders(lab, { ORDERS_LIST: 'naive' }, { http: 19700, grpc: 19701 });
    extra.push(naiveOrders.process);
    const naive = await naiveOrders.client.ListOrders({ customerId: customer, isAdmin: false, limit: 50, cursor: '' });
    expect(naive.items.map((o) => o.id)).toEqual(batched.items.map((o) => o.id));
    expect(naive.queryCount).toBeGreaterThanOrEqual(51);
    naiveOrders.process.kill('SIGTERM');
  }, 120_000);

  it('dual write is really broken: killing orders between commit and publish leaves the order PENDING with no event', async () => {
    const dualWrite = await startExtraOrders(
      lab,
      { ORDERS_PUBLISH: 'dual-write', ORDERS_DUAL_WRITE_DELAY_MS: '30000' },
      { http: 19710, grpc: 19711 },
    );
    extra.push(dualWrite.process);
    // The dual-write handler commits, then waits ORDERS_DUAL_WRITE_DELAY_MS, then publishes, then answers. Send the
    // order, await its commit in the database, and kill the process inside that window.
    const customer = `dual-${randomUUID().slice(0, 8)}`;
    const answer = dualWrite.client
      .PlaceOrder(placeOrderRequest(customer, [{ sku: 'SKU-0041', quantity: 1 }]))
      .catch((error: { code: number }) => error);
    const [row] = await eventually('the dual-write order to be committed', async () => {
      const rows = await lab.sql('orders', 'SELECT id, status FROM orders WHERE customer_id = $1', [customer]);
      return rows.length > 0 ? rows : undefined;
    });
    const placed = { order: { id: String(row['id']) } };
    expect(row['status']).toBe('PENDING');
    dualWrite.process.kill('SIGKILL');
    await eventually(
      'the dual-write orders process to die',
      async () => dualWrite.process.exitCode !== null || dualWrite.process.signalCode !== null,
    );
    // The client never got an answer for an order that exists: exactly the state a crash leaves behind.
    expect(await answer).toMatchObject({ code: GrpcStatus.UNAVAILABLE });

    // A control order through the correct path must complete: the pipeline works, so what follows is the variant's
    // fault.
    const control = await lab.orders.PlaceOrder(placeOrderRequest('alice', [{ sku: 'SKU-0041', quantity: 1 }]));
    expect((await awaitFinal(lab, [orderOf(control).id])).get(orderOf(control).id)).toBe('CONFIRMED');

    const [stuck] = await lab.sql('orders', 'SELECT status FROM orders WHERE id = $1', [orderOf(placed).id]);
    expect(stuck['status']).toBe('PENDING');
    expect(await lab.sql('orders', 'SELECT 1 FROM outbox WHERE aggregateid = $1', [orderOf(placed).id])).toHaveLength(
      0,
    );
    const keys = await topicKeys(`127.0.0.1:${lab.layout.ports.kafka}`, ORDERS_EVENTS_TOPIC);
    expect(keys.has(orderOf(control).id)).toBe(true);
    expect(keys.has(orderOf(placed).id)).toBe(false);
  }, 120_000);

  it('poison message: a malformed OrderPlaced lands in the DLQ, later events are processed, a fixed replay succeeds', async () => {
    const orderId = randomUUID();
    const eventId = randomUUID();
    const payload = {
      orderId,
      customerId: 'alice',
      items: [{ sku: 'SKU-0042', quantity: 0 }],
      placedAt: new Date().toISOString(),
    };
    const kafka = new Kafka({
      clientId: 'saga-test-poison',
      brokers: [`127.0.0.1:${lab.layout.ports.kafka}`],
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: ORDERS_EVENTS_TOPIC,
      messages: [
        {
          key: orderId,
          value: JSON.stringify(payload), // quantity 0 breaks the v1 schema: no retry can fix it
          headers: {
            [EVENT_HEADERS.eventId]: eventId,
            [EVENT_HEADERS.eventType]: 'OrderPlaced',
            [EVENT_HEADERS.eventVersion]: '1',
          },
        },
      ],
    });
    await producer.disconnect();

    // Inventory goes on: an order placed after the poison message is answered.
    const after = await lab.orders.PlaceOrder(placeOrderRequest('alice', [{ sku: 'SKU-0042', quantity: 1 }]));
    expect((await awaitFinal(lab, [orderOf(after).id])).get(orderOf(after).id)).toBe('CONFIRMED');

    const entry = await eventually('the poison message in the DLQ', async () => {
      const listed = await lab.cli.exec('dlq', 'list', '--json');
      if (listed.code !== 0) throw new Error(listed.stderr);
      const entries = (
        JSON.parse(listed.stdout) as { entries: { id: string; eventId: string; error: { message: string } }[] }
      ).entries;
      return entries.find((e) => e.eventId === eventId);
    });
    expect(entry.id).toMatch(/^orders\.events\.dlq:\d+:\d+$/);
    expect(JSON.stringify(entry.error)).toMatch(/quantity/);
    expect(await lab.sql('inventory', 'SELECT 1 FROM reservations WHERE order_id = $1', [orderId])).toHaveLength(0);

    const fixed = join(mkdtempSync(join(tmpdir(), 'faultline-dlq-')), 'fixed.json');
    writeFileSync(fixed, JSON.stringify({ ...payload, items: [{ sku: 'SKU-0042', quantity: 1 }] }));
    const replay = await lab.cli.exec('dlq', 'replay', entry.id, '--payload', fixed);
    expect(replay.code).toBe(0);
    const reservation = await eventually('the replayed order to be reserved', async () => {
      const rows = await lab.sql('inventory', 'SELECT status FROM reservations WHERE order_id = $1', [orderId]);
      return rows.length > 0 ? rows : undefined;
    });
    expect(reservation).toEqual([{ status: 'RESERVED' }]);
  });
});

/** Every message key on a topic, read from the beginning up to the current end (never waits for new messages). */
async function topicKeys(broker: string, topic: string): Promise<Set<string>> {
  const kafka = new Kafka({ clientId: 'saga-test', brokers: [broker], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.filter((p) => Number(p.high) > 0).map((p) => [p.partition, Number(p.high)]));
  const keys = new Set<string>();
  const consumer = kafka.consumer({ groupId: `saga-test-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    if (remaining.size === 0) return resolve();
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          if (message.key) keys.add(message.key.toString());
          if (Number(message.offset) + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition);
          if (remaining.size === 0) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return keys;
}
