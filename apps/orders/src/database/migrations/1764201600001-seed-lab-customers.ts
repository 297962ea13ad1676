import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The lab's customers: a few named ones for the README's walkthrough and 200 numbered ones for load. Customers not
 * seeded here are recorded on their first order (name from the token's `name` claim, else the `sub`).
 */
export class SeedLabCustomers1764201600001 implements MigrationInterface {
  name = 'SeedLabCustomers1764201600001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`INSERT INTO customers (id, name) VALUES ('alice', 'Alice Example'), ('bob', 'Bob Example'), ('carol', 'Carol Example')
      ON CONFLICT (id) DO NOTHING`);
    await q.query(`INSERT INTO customers (id, name)
      SELECT 'customer-' || lpad(i::text, 4, '0'), 'Customer ' || i FROM generate_series(1, 200) AS i
      ON CONFLICT (id) DO NOTHING`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM customers c WHERE (c.id IN ('alice', 'bob', 'carol') OR c.id LIKE 'customer-%')
      AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)`);
  }
}
