import { MigrationInterface, QueryRunner } from 'typeorm';
import { inboxMigrationSql } from '@faultline/messaging';

/**
 * Notifications: at most one per order (an order has exactly one outcome), enforced by the database, behind the
 * inbox that makes redeliveries no-ops.
 */
export class CreateNotificationsSchema1764201800000 implements MigrationInterface {
  name = 'CreateNotificationsSchema1764201800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE notifications (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      order_id uuid NOT NULL UNIQUE,
      customer_id text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('ORDER_CONFIRMED', 'ORDER_REJECTED')),
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query('CREATE INDEX notifications_customer_created_idx ON notifications (customer_id, created_at DESC)');
    for (const sql of inboxMigrationSql().up) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of inboxMigrationSql().down) await q.query(sql);
    await q.query('DROP TABLE notifications');
  }
}
