// The repair against the test lab's Postgres: a lost OrderPlaced is rebuilt with the same id on every repair, a row
// still in the outbox is written again (a new insert the relay will see) with its id and payload unchanged, and a
// final order gets its outcome event.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createScratchDatabase, type ScratchDatabase } from '@faultline/database';
import { outboxMigrationSql } from '@faultline/outbox';
import { repairEventId, repairOrders } from '../src';

const pgUrl = process.env['FAULTLINE_TEST_PG_URL'];
if (!pgUrl) throw new Error('FAULTLINE_TEST_PG_URL is not set: run with --selectProjects integration');

let scratch: ScratchDatabase;
let db: Client;

beforeAll(async () => {
  scratch = await createScratchDatabase((name) => `${pgUrl}/${name}`, `repair_${randomUUID().slice(0, 8)}`);
  db = new Client({ connectionString: scratch.url });
  await db.connect();
  await db.query(
    `CREATE TABLE orders (id uuid PRIMARY KEY, customer_id text NOT NULL, status text NOT NULL, reject_reason text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)`,
  );
  await db.query(
    `CREATE TABLE order_items (order_id uuid NOT NULL, line int NOT NULL, sku text NOT NULL, quantity int NOT NULL, PRIMARY KEY (order_id, line))`,
  );
  for (const sql of outboxMigrationSql().up) await db.query(sql);
});

afterAll(async () => {
  await db?.end();
  await scratch?.drop();
});

const order = async (status: string) => {
  const id = randomUUID();
  await db.query("INSERT INTO orders VALUES ($1, 'alice', $2, NULL, now(), now())", [id, status]);
  await db.query("INSERT INTO order_items VALUES ($1, 1, 'SKU-0001', 2)", [id]);
  return id;
};
const outbox = async (id: string) =>
  (
    await db.query(
      'SELECT id::text AS id, type, payload, xmin::text AS xmin FROM outbox WHERE aggregateid = $1 ORDER BY type',
      [id],
    )
  ).rows;

it('rebuilds the OrderPlaced a dual write lost, and the same id again on a second repair', async () => {
  const id = await order('PENDING');
  const [first] = await repairOrders(db, [id]);
  expect(first).toEqual({
    orderId: id,
    type: 'OrderPlaced',
    eventId: repairEventId(id, 'OrderPlaced'),
    how: 'rebuilt',
  });
  const [row] = await outbox(id);
  expect(row).toMatchObject({
    id: first.eventId,
    type: 'OrderPlaced',
    payload: { orderId: id, customerId: 'alice', items: [{ sku: 'SKU-0001', quantity: 2 }] },
  });
  const [second] = await repairOrders(db, [id]);
  expect(second).toMatchObject({ eventId: first.eventId, how: 're-emitted' });
  const [again] = await outbox(id);
  expect(again.id).toBe(row.id);
  // Written again: a new row version, which logical decoding sends as an insert.
  expect(again.xmin).not.toBe(row.xmin);
});

it('gives a final order its outcome event, and leaves an id that was in the outbox as it was', async () => {
  const id = await order('CONFIRMED');
  const eventId = randomUUID();
  await db.query(
    "INSERT INTO outbox (id, aggregatetype, aggregateid, type, version, payload, created_at) VALUES ($1, 'order', $2, 'OrderConfirmed', '1', $3, now())",
    [eventId, id, JSON.stringify({ orderId: id, customerId: 'alice', confirmedAt: new Date().toISOString() })],
  );
  expect(await repairOrders(db, [id])).toEqual([{ orderId: id, type: 'OrderConfirmed', eventId, how: 're-emitted' }]);
  const rejected = await order('REJECTED');
  const [made] = await repairOrders(db, [rejected]);
  expect(made).toMatchObject({ type: 'OrderRejected', how: 'rebuilt' });
  expect((await outbox(rejected))[0].payload).toMatchObject({ orderId: rejected, reason: 'INSUFFICIENT_STOCK' });
  expect(await repairOrders(db, [])).toEqual([]);
});
