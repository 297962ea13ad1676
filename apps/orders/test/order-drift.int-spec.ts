// The orders reconciliation queries against a real Postgres with an outbox far larger than work_mem: they find
// exactly the planted drift, and the outbox checks are joins, not a scan of the whole outbox for every order (the
// plan an `OR` of NOT EXISTS subqueries got, which kept a CPU busy for minutes once orders held 60,000 rows).
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createScratchDatabase, type ScratchDatabase } from '@faultline/database';
import { findOrderDrift, ORDER_DRIFT_QUERIES } from '@faultline/reconciliation';
import { ordersMigrations } from '../src/database/orders.migrations';

const pgUrl = process.env['FAULTLINE_TEST_PG_URL'] as string;
const ORDERS = 20_000;
let scratch: ScratchDatabase;
let db: Client;

const planted = { missingPlaced: randomUUID(), missingOutcome: randomUUID(), stuck: randomUUID() };

beforeAll(async () => {
  scratch = await createScratchDatabase(
    (database) => `${pgUrl}/${database}`,
    `orders_drift_test_${Date.now().toString(36)}`,
  );
  const dataSource = new DataSource({ type: 'postgres', url: scratch.url, migrations: ordersMigrations });
  await dataSource.initialize();
  await dataSource.runMigrations();
  await dataSource.destroy();
  db = new Client({ connectionString: scratch.url });
  await db.connect();
  // 20,000 final orders, each with its OrderPlaced and its outcome event, as the saga leaves them.
  await db.query(
    "INSERT INTO customers (id, name) SELECT 'c-' || g, 'c-' || g FROM generate_series(0, 99) g UNION ALL SELECT 'drift', 'drift'",
  );
  await db.query(
    `INSERT INTO orders (id, customer_id, status, item_count, created_at, updated_at)
     SELECT gen_random_uuid(), 'c-' || (g % 100), CASE WHEN g % 10 = 0 THEN 'REJECTED' ELSE 'CONFIRMED' END, 1, now(), now()
       FROM generate_series(1, $1) g`,
    [ORDERS],
  );
  await db.query(
    `INSERT INTO outbox (id, aggregatetype, aggregateid, type, version, payload)
     SELECT gen_random_uuid(), 'Order', o.id::text, t.type, 1, '{}'::jsonb
       FROM orders o
       CROSS JOIN LATERAL (VALUES ('OrderPlaced'), (CASE o.status WHEN 'CONFIRMED' THEN 'OrderConfirmed' ELSE 'OrderRejected' END)) t(type)`,
  );
  // The drift: a final order whose OrderPlaced never entered the outbox, one without its outcome, one stuck PENDING.
  const order = (id: string, status: string, age = '0 seconds') =>
    db.query(
      `INSERT INTO orders (id, customer_id, status, item_count, created_at, updated_at) VALUES ($1, 'drift', $2, 1, now() - $3::interval, now())`,
      [id, status, age],
    );
  const event = (id: string, type: string) =>
    db.query(
      `INSERT INTO outbox (id, aggregatetype, aggregateid, type, version, payload) VALUES ($1, 'Order', $2, $3, 1, '{}')`,
      [randomUUID(), id, type],
    );
  await order(planted.missingPlaced, 'CONFIRMED');
  await event(planted.missingPlaced, 'OrderConfirmed');
  await order(planted.missingOutcome, 'REJECTED');
  await event(planted.missingOutcome, 'OrderPlaced');
  await order(planted.stuck, 'PENDING', '1 hour');
  await event(planted.stuck, 'OrderPlaced');
  await db.query('ANALYZE');
}, 120_000);

afterAll(async () => {
  await db?.end();
  await scratch?.drop();
});

describe('orders reconciliation queries', () => {
  it('find exactly the planted drift among 20,000 consistent orders', async () => {
    const findings = await findOrderDrift(db, { pendingGraceS: 60, outboxRetentionHours: 168 });
    expect(Object.fromEntries(findings.map((f) => [f.kind, f.ids]))).toEqual({
      stuck_pending: [planted.stuck],
      final_without_outbox_event: [planted.missingPlaced, planted.missingOutcome].sort(),
    });
  });

  it('check the outbox with joins, never a subquery run once per order, when the outbox outgrows work_mem', async () => {
    // 40,000 outbox rows do not fit in 64 kB: a subquery Postgres cannot turn into a join is then re-run per order.
    await db.query("SET work_mem = '64kB'");
    try {
      const plan = (await db.query(`EXPLAIN ${ORDER_DRIFT_QUERIES.final_without_outbox_event}`, [168])).rows
        .map((r) => r['QUERY PLAN'] as string)
        .join('\n');
      expect(plan).toMatch(/Anti Join/);
      // A per-row subquery shows as "SubPlan N" (a hashed one, "hashed SubPlan N", would fit in memory).
      expect(plan).not.toMatch(/(^|\s)SubPlan \d/m);
    } finally {
      await db.query('RESET work_mem');
    }
  });
});
