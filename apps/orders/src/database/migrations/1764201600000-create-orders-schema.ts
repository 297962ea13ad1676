import { MigrationInterface, QueryRunner } from 'typeorm';
import { inboxMigrationSql } from '@faultline/messaging';
import { outboxMigrationSql } from '@faultline/outbox';

/** The orders database: customers, orders and their items, idempotency records, the outbox and the saga's inbox. */
export class CreateOrdersSchema1764201600000 implements MigrationInterface {
  name = 'CreateOrdersSchema1764201600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE customers (
      id text PRIMARY KEY,
      name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE TABLE orders (
      id uuid PRIMARY KEY,
      customer_id text NOT NULL REFERENCES customers (id),
      status text NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'REJECTED')),
      reject_reason text,
      item_count int NOT NULL CHECK (item_count BETWEEN 1 AND 20),
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    )`);
    // Both list orders newest first with (created_at, id) as the cursor: per customer, and for admins, everyone's.
    await q.query(`CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX orders_created_idx ON orders (created_at DESC, id DESC)`);
    await q.query(`CREATE TABLE order_items (
      order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
      line int NOT NULL,
      sku text NOT NULL,
      quantity int NOT NULL CHECK (quantity BETWEEN 1 AND 100),
      PRIMARY KEY (order_id, line)
    )`);
    // One row per (customer, key): the stored answer to the first request, kept at least 24 h (expires_at).
    await q.query(`CREATE TABLE idempotency_keys (
      customer_id text NOT NULL,
      key text NOT NULL,
      request_hash text NOT NULL,
      order_id uuid NOT NULL,
      response_status int NOT NULL,
      response_body jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (customer_id, key)
    )`);
    await q.query(`CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at)`);
    for (const sql of outboxMigrationSql().up) await q.query(sql);
    for (const sql of inboxMigrationSql().up) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of inboxMigrationSql().down) await q.query(sql);
    for (const sql of outboxMigrationSql().down) await q.query(sql);
    await q.query('DROP TABLE idempotency_keys');
    await q.query('DROP TABLE order_items');
    await q.query('DROP TABLE orders');
    await q.query('DROP TABLE customers');
  }
}
