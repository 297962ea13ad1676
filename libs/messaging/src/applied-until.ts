// How current a read model is: a consumer saves, per partition, the commit time up to which it has applied every
// event (EventConsumerOptions.appliedUntil), and the read side answers with the oldest of those marks. It is an
// upper bound on staleness: when nothing is committed for a while the mark stays put, because a consumer cannot tell
// "no event" from "no event yet".
import { queryRows, type SqlExecutor } from '@faultline/database/sql';
import type { AppliedMark } from './event-consumer';

export const APPLIED_UNTIL_TABLE = 'applied_until';

/** Migration SQL for the consuming service's own TypeORM migration. */
export function appliedUntilMigrationSql(): { up: string[]; down: string[] } {
  return {
    up: [
      `CREATE TABLE IF NOT EXISTS ${APPLIED_UNTIL_TABLE} (
        consumer text NOT NULL,
        topic text NOT NULL,
        partition int NOT NULL,
        partitions int NOT NULL,
        until timestamptz NOT NULL,
        PRIMARY KEY (consumer, topic, partition)
      )`,
    ],
    down: [`DROP TABLE IF EXISTS ${APPLIED_UNTIL_TABLE}`],
  };
}

/** Saves marks; a mark only moves forward (a member that lost the partition in a rebalance cannot move it back). */
export async function saveAppliedMarks(
  db: SqlExecutor,
  consumer: string,
  marks: readonly AppliedMark[],
): Promise<void> {
  if (marks.length === 0) return;
  await db.query(
    `INSERT INTO ${APPLIED_UNTIL_TABLE} (consumer, topic, partition, partitions, until)
     SELECT $1, m.topic, m.partition, m.partitions, m.until
       FROM unnest($2::text[], $3::int[], $4::int[], $5::timestamptz[]) AS m(topic, partition, partitions, until)
     ON CONFLICT (consumer, topic, partition)
     DO UPDATE SET until = GREATEST(${APPLIED_UNTIL_TABLE}.until, EXCLUDED.until), partitions = EXCLUDED.partitions`,
    [
      consumer,
      marks.map((m) => m.topic),
      marks.map((m) => m.partition),
      marks.map((m) => m.partitions),
      marks.map((m) => m.until.toISOString()),
    ],
  );
}

/**
 * The time up to which `consumer` has applied every event of `topic`: the oldest of its partitions' marks, or
 * undefined while some partition has none yet (nothing can be said for it).
 */
export async function readAppliedUntil(db: SqlExecutor, consumer: string, topic: string): Promise<Date | undefined> {
  const [row] = await queryRows<{ until: Date | string | null; marked: number; partitions: number | null }>(
    db,
    `SELECT min(until) AS until, count(*)::int AS marked, max(partitions)::int AS partitions FROM ${APPLIED_UNTIL_TABLE} WHERE consumer = $1 AND topic = $2`,
    [consumer, topic],
  );
  if (!row || row.until === null || row.partitions === null || row.marked < row.partitions) return undefined;
  return new Date(row.until);
}
