export {
  MIN_OUTBOX_RETENTION_MS,
  OUTBOX_PUBLICATION,
  OUTBOX_TABLE,
  appendToOutbox,
  outboxMigrationSql,
  pruneOutbox,
  replicationSlotName,
  type OutboxSource,
} from './outbox';
export { OutboxRecordError, isOutboxRecord, outboxRecordFromRow, type OutboxRecord } from './outbox-record';
