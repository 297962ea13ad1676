// The consumer side of at-least-once: every consumer records the event id in its inbox in the SAME transaction as
// the effect, so a redelivered event finds its id there and changes nothing (docs/architecture.md, "Saga, outbox and
// inbox").
import { queryRows, type SqlExecutor } from '@faultline/database/sql';

export const INBOX_TABLE = 'inbox';

/** Migration SQL for the consuming service's own TypeORM migration. */
export function inboxMigrationSql(): { up: string[]; down: string[] } {
  return {
    up: [
      `CREATE TABLE IF NOT EXISTS ${INBOX_TABLE} (
        consumer text NOT NULL,
        event_id uuid NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`,
      `CREATE INDEX IF NOT EXISTS ${INBOX_TABLE}_received_at_idx ON ${INBOX_TABLE} (received_at)`,
    ],
    down: [`DROP TABLE IF EXISTS ${INBOX_TABLE}`],
  };
}

/**
 * Records `eventId` for `consumer`; true the first time, false for a redelivery (then roll back or skip the effect).
 * Must run inside the transaction of the effect. RETURNING counts the inserted row whichever client ran it (pg's
 * Result, TypeORM's rows or `[rows, affected]`).
 */
export async function recordInInbox(db: SqlExecutor, consumer: string, eventId: string): Promise<boolean> {
  const inserted = await queryRows(
    db,
    `INSERT INTO ${INBOX_TABLE} (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id`,
    [consumer, eventId],
  );
  return inserted.length === 1;
}
