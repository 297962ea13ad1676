import { MigrationInterface, QueryRunner } from 'typeorm';
import { inboxMigrationSql } from '@faultline/messaging';
import { outboxMigrationSql } from '@faultline/outbox';

/** The inventory database: products with their stock, reservations per order, the outbox and the inbox. */
export class CreateInventorySchema1764201700000 implements MigrationInterface {
  name = 'CreateInventorySchema1764201700000';

  async up(q: QueryRunner): Promise<void> {
    // The CHECK is the last line of defence: even a buggy decrement can never make stock negative.
    await q.query(`CREATE TABLE products (
      sku text PRIMARY KEY,
      name text NOT NULL,
      price_cents int NOT NULL CHECK (price_cents >= 0),
      available int NOT NULL CHECK (available >= 0),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    // One row per order inventory has answered, whatever the answer: the reservation is all or nothing.
    await q.query(`CREATE TABLE reservations (
      order_id uuid PRIMARY KEY,
      status text NOT NULL CHECK (status IN ('RESERVED', 'REJECTED')),
      reason text,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE TABLE reservation_items (
      order_id uuid NOT NULL REFERENCES reservations (order_id) ON DELETE CASCADE,
      sku text NOT NULL REFERENCES products (sku),
      quantity int NOT NULL CHECK (quantity > 0),
      PRIMARY KEY (order_id, sku)
    )`);
    for (const sql of outboxMigrationSql().up) await q.query(sql);
    for (const sql of inboxMigrationSql().up) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of inboxMigrationSql().down) await q.query(sql);
    for (const sql of outboxMigrationSql().down) await q.query(sql);
    await q.query('DROP TABLE reservation_items');
    await q.query('DROP TABLE reservations');
    await q.query('DROP TABLE products');
  }
}
