// The transactional outbox (docs/architecture.md, "Saga, outbox and inbox"): a service writes its events here in the
// same transaction as the change they describe; the CDC relay streams the committed inserts to Kafka. Nothing else
// ever reads or changes the rows.
import type { EventEnvelope } from '@faultline/contracts';
import { queryRows, type SqlExecutor } from '@faultline/database/sql';

export const OUTBOX_TABLE = 'outbox';
/** The publication the relay subscribes to: inserts only, so the relay never sees the retention job's deletes. */
export const OUTBOX_PUBLICATION = 'outbox_publication';
export type OutboxSource = 'orders' | 'inventory';

/** One logical replication slot per source database; the relay creates it on first start. */
export function replicationSlotName(source: OutboxSource | string): string {
  return `outbox_relay_${source}`;
}

/**
 * Migration SQL for a service's own TypeORM migration (one migration history per database). `version` is not a
 * Debezium column: it carries the payload version, which the relay puts in the `event-version` header.
 */
export function outboxMigrationSql(): { up: string[]; down: string[] } {
  return {
    up: [
      `CREATE TABLE IF NOT EXISTS ${OUTBOX_TABLE} (
        id uuid PRIMARY KEY,
        aggregatetype text NOT NULL,
        aggregateid text NOT NULL,
        type text NOT NULL,
        version int NOT NULL,
        payload jsonb NOT NULL,
        tracingspancontext text NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX IF NOT EXISTS ${OUTBOX_TABLE}_created_at_idx ON ${OUTBOX_TABLE} (created_at)`,
      `CREATE PUBLICATION ${OUTBOX_PUBLICATION} FOR TABLE ${OUTBOX_TABLE} WITH (publish = 'insert')`,
    ],
    down: [`DROP PUBLICATION IF EXISTS ${OUTBOX_PUBLICATION}`, `DROP TABLE IF EXISTS ${OUTBOX_TABLE}`],
  };
}

const COLUMNS = [
  'id',
  'aggregatetype',
  'aggregateid',
  'type',
  'version',
  'payload',
  'tracingspancontext',
  'created_at',
];

/**
 * Appends events to the outbox in ONE multi-row INSERT. Call it inside the transaction that makes the change the
 * events describe: that transaction's commit is what publishes them.
 */
export async function appendToOutbox(db: SqlExecutor, events: readonly EventEnvelope[]): Promise<void> {
  if (events.length === 0) return;
  const params: unknown[] = [];
  const tuples = events.map((event) => {
    const { metadata } = event;
    const values = [
      metadata.eventId,
      metadata.aggregateType,
      metadata.aggregateId,
      metadata.type,
      metadata.version,
      JSON.stringify(event.payload),
      metadata.traceparent ?? null,
      metadata.occurredAt,
    ];
    const placeholders = values.map((value) => {
      params.push(value);
      return `$${params.length}`;
    });
    return `(${placeholders.join(', ')})`;
  });
  await db.query(`INSERT INTO ${OUTBOX_TABLE} (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, params);
}

/** Retention: a relayed row is useless. Keep hours, far beyond the relay's position, never minutes. */
export const MIN_OUTBOX_RETENTION_MS = 60 * 60 * 1000;

/** Deletes rows older than `olderThanMs` (at least an hour); returns how many. Deletes are not published. */
export async function pruneOutbox(db: SqlExecutor, olderThanMs: number): Promise<number> {
  if (!(olderThanMs >= MIN_OUTBOX_RETENTION_MS)) {
    throw new Error(`outbox retention must be at least ${MIN_OUTBOX_RETENTION_MS} ms, got ${olderThanMs}`);
  }
  const rows = await queryRows<{ count: number }>(
    db,
    `WITH deleted AS (DELETE FROM ${OUTBOX_TABLE} WHERE created_at < now() - ($1::bigint * interval '1 millisecond') RETURNING 1)
     SELECT count(*)::int AS count FROM deleted`,
    [Math.floor(olderThanMs)],
  );
  return rows[0]?.count ?? 0;
}
