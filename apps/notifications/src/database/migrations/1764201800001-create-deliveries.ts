import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The deliveries log: one row per notification SENT (the e-mail or push a real service would send), append-only and
 * with no unique key on purpose, so a duplicate effect shows up as a second row instead of being absorbed by a
 * constraint. The lab's exactly-once checks count deliveries per order here.
 */
export class CreateDeliveries1764201800001 implements MigrationInterface {
  name = 'CreateDeliveries1764201800001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE deliveries (
      id bigserial PRIMARY KEY,
      order_id uuid NOT NULL,
      event_id uuid NOT NULL,
      kind text NOT NULL,
      delivered_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query('CREATE INDEX deliveries_order_idx ON deliveries (order_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE deliveries');
  }
}
