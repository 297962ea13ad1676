import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The naive way, kept to be measured (`lab migrate naive`): one migration file that adds the column and fills it.
 * TypeORM runs a migration in ONE transaction by default, so the ACCESS EXCLUSIVE lock taken by ADD COLUMN is held
 * until the UPDATE of every row commits: on a large table every insert and every read of orders waits that long.
 * (The DEFAULT is there because the column is NOT NULL at once; rows written by the old release get a wrong 0.)
 */
export class NaiveLineCount1764201799999 implements MigrationInterface {
  name = 'NaiveLineCount1764201799999';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE orders ADD COLUMN line_count int NOT NULL DEFAULT 0');
    await q.query('UPDATE orders SET line_count = item_count');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE orders DROP COLUMN IF EXISTS line_count');
  }
}
