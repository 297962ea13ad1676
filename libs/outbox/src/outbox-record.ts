// An outbox row as the relay decodes it from the WAL (pgoutput gives each column parsed by pg's type parsers, or
// its text when no parser applies), checked before it is published.

/** One committed outbox row: the event id, routing data, payload and trace context. */
export interface OutboxRecord {
  readonly id: string;
  readonly aggregatetype: string;
  readonly aggregateid: string;
  readonly type: string;
  readonly version: number;
  readonly payload: unknown;
  readonly tracingspancontext: string | null;
  readonly created_at?: Date | string;
  /** Set by the relay: its transaction's commit time (epoch ms), published in the `committed-at` header. */
  readonly committedAt?: number;
}

export class OutboxRecordError extends Error {
  override readonly name = 'OutboxRecordError';
}

/** Turns a decoded row into a record, or throws OutboxRecordError naming what is missing. */
export function outboxRecordFromRow(row: Record<string, unknown>): OutboxRecord {
  const text = (name: string): string => {
    const value = row[name];
    if (typeof value !== 'string' || value.length === 0)
      throw new OutboxRecordError(`outbox row ${String(row['id'])}: column ${name} missing`);
    return value;
  };
  const version = typeof row['version'] === 'string' ? Number(row['version']) : row['version'];
  if (typeof version !== 'number' || !Number.isSafeInteger(version)) {
    throw new OutboxRecordError(`outbox row ${String(row['id'])}: column version missing`);
  }
  const payload = typeof row['payload'] === 'string' ? JSON.parse(row['payload']) : row['payload'];
  const trace = row['tracingspancontext'];
  return {
    id: text('id'),
    aggregatetype: text('aggregatetype'),
    aggregateid: text('aggregateid'),
    type: text('type'),
    version,
    payload,
    tracingspancontext: typeof trace === 'string' && trace.length > 0 ? trace : null,
    ...(row['created_at'] instanceof Date || typeof row['created_at'] === 'string'
      ? { created_at: row['created_at'] as Date | string }
      : {}),
  };
}

export function isOutboxRecord(value: unknown): value is OutboxRecord {
  return (
    typeof value === 'object' && value !== null && 'aggregateid' in value && 'id' in value && !('metadata' in value)
  );
}
