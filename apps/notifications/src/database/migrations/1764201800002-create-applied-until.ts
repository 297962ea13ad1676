import { MigrationInterface, QueryRunner } from 'typeorm';
import { appliedUntilMigrationSql } from '@faultline/messaging';

/** How current the notification feed is: per partition of orders.events, the commit time applied up to. */
export class CreateAppliedUntil1764201800002 implements MigrationInterface {
  name = 'CreateAppliedUntil1764201800002';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of appliedUntilMigrationSql().up) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of appliedUntilMigrationSql().down) await q.query(sql);
  }
}
