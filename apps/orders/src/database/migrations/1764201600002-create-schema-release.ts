import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the online migration (src/online-migration) coordinates through:
 * - `schema_release`: per rollout, the application release every orders instance must follow, and the last step
 *   of the migration that completed;
 * - `schema_release_seen`: each live orders instance's acknowledgement of the release it runs (a heartbeat);
 * - `online_migration_progress`: where a batched backfill stopped, so a killed backfill resumes there.
 */
export class CreateSchemaRelease1764201600002 implements MigrationInterface {
  name = 'CreateSchemaRelease1764201600002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE schema_release (
      rollout text PRIMARY KEY,
      release text NOT NULL,
      step text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(
      `INSERT INTO schema_release (rollout, release, step) VALUES ('orders.line_count', 'item-count', 'start')`,
    );
    await q.query(`CREATE TABLE schema_release_seen (
      instance text PRIMARY KEY,
      rollout text NOT NULL,
      release text NOT NULL,
      seen_at timestamptz NOT NULL
    )`);
    await q.query(`CREATE TABLE online_migration_progress (
      backfill text PRIMARY KEY,
      last_id uuid,
      rows_done bigint NOT NULL DEFAULT 0,
      started_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE online_migration_progress');
    await q.query('DROP TABLE schema_release_seen');
    await q.query('DROP TABLE schema_release');
  }
}
