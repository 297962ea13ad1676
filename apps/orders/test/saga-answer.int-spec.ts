// The saga step against a real Postgres: an inventory answer for an order this session cannot see yet must be
// retried (not dropped), a repeat of a processed answer is a duplicate, and an answer for a final order is ignored.
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createEvent, ParsedEvent } from '@faultline/contracts';
import { createScratchDatabase, type ScratchDatabase } from '@faultline/database';
import type { HandleContext } from '@faultline/messaging';
import { createLogger } from '@faultline/observability';
import { OrderRepository } from '../src/database/order.repository';
import { ordersMigrations } from '../src/database/orders.migrations';
import { ordersConfigSchema } from '../src/orders.config';
import {
  InventoryOutcomeMessageController,
  OrderNotVisibleYetError,
} from '../src/saga/inventory-outcome.message.controller';

const pgUrl = process.env['FAULTLINE_TEST_PG_URL'] as string;
let scratch: ScratchDatabase;
let dataSource: DataSource;
let saga: InventoryOutcomeMessageController;

function answer(orderId: string): { event: ParsedEvent; context: HandleContext } {
  const envelope = createEvent('InventoryReserved', {
    orderId,
    items: [{ sku: 'SKU-0001', quantity: 1 }],
    reservedAt: new Date().toISOString(),
  });
  const event = {
    type: envelope.metadata.type,
    version: envelope.metadata.version,
    payload: envelope.payload,
  } as ParsedEvent;
  const headers = { eventId: envelope.metadata.eventId, eventType: 'InventoryReserved', eventVersion: '1' };
  return {
    event,
    context: { headers, key: orderId, topic: 'inventory.events', partition: 0, offset: '0', attempt: 1 },
  };
}

async function placePending(orderId: string) {
  await dataSource.query(
    "INSERT INTO orders (id, customer_id, status, item_count, created_at, updated_at) VALUES ($1, 'alice', 'PENDING', 1, now(), now())",
    [orderId],
  );
  await dataSource.query("INSERT INTO order_items (order_id, line, sku, quantity) VALUES ($1, 1, 'SKU-0001', 1)", [
    orderId,
  ]);
}

beforeAll(async () => {
  scratch = await createScratchDatabase(
    (database) => `${pgUrl}/${database}`,
    `orders_saga_test_${Date.now().toString(36)}`,
  );
  dataSource = new DataSource({ type: 'postgres', url: scratch.url, migrations: ordersMigrations });
  await dataSource.initialize();
  await dataSource.runMigrations();
  const config = ordersConfigSchema.parse({ DATABASE_URL: scratch.url, KAFKA_BROKERS: '127.0.0.1:1' });
  // The saga step never inserts, so the columns port is never asked.
  const columns = { insertOrderSql: () => 'unused', lineCountColumn: () => 'item_count' };
  saga = new InventoryOutcomeMessageController(dataSource, config, new OrderRepository(columns));
  Object.assign(saga, { logger: createLogger('orders-test', 'silent') });
});

afterAll(async () => {
  await dataSource?.destroy();
  await scratch?.drop();
});

describe('orders saga: inventory answers', () => {
  it('retries an answer for an order it cannot see yet, recording nothing, then applies it once the order is visible', async () => {
    const orderId = randomUUID();
    const { event, context } = answer(orderId);
    await expect(saga.handle(event, context)).rejects.toBeInstanceOf(OrderNotVisibleYetError);
    // The inbox row rolled back with the transaction: the redelivery is not mistaken for a duplicate.
    expect(await dataSource.query('SELECT 1 FROM inbox WHERE event_id = $1', [context.headers.eventId])).toHaveLength(
      0,
    );

    await placePending(orderId);
    await expect(saga.handle(event, { ...context, attempt: 2 })).resolves.toBe('processed');
    const [order] = await dataSource.query('SELECT status FROM orders WHERE id = $1', [orderId]);
    expect(order.status).toBe('CONFIRMED');
    const outbox = await dataSource.query('SELECT type FROM outbox WHERE aggregateid = $1', [orderId]);
    expect(outbox).toEqual([{ type: 'OrderConfirmed' }]);

    await expect(saga.handle(event, context)).resolves.toBe('duplicate');
  });

  it('ignores a different answer for an order that is already final, without a second outcome event', async () => {
    const orderId = randomUUID();
    await placePending(orderId);
    await expect(saga.handle(answer(orderId).event, answer(orderId).context)).resolves.toBe('processed');
    const late = answer(orderId);
    await expect(saga.handle(late.event, late.context)).resolves.toBe('ignored');
    expect(await dataSource.query('SELECT type FROM outbox WHERE aggregateid = $1', [orderId])).toHaveLength(1);
  });
});
