// Collects one transaction's outbox inserts from BEGIN to COMMIT, so a transaction is published whole and its commit
// position is acknowledged only after all of it reached Kafka.
import { OUTBOX_TABLE, outboxRecordFromRow, type OutboxRecord } from '@faultline/outbox';
import type { Pgoutput } from 'pg-logical-replication';
import { parseLsn } from './lsn';

export interface CommittedTransaction {
  readonly records: OutboxRecord[];
  /** End of the commit record: the position to acknowledge once every record is in Kafka. */
  readonly commitEndLsn: bigint;
  /** Commit time, ms since the Unix epoch, to the microsecond (for relay lag). */
  readonly commitTimeMs: number;
}

export class TransactionBuffer {
  private open?: { records: OutboxRecord[] };

  get inTransaction(): boolean {
    return this.open !== undefined;
  }

  /** Feeds one decoded message; returns the transaction when it was its COMMIT. */
  apply(message: Pgoutput.Message): CommittedTransaction | undefined {
    switch (message.tag) {
      case 'begin':
        this.open = { records: [] };
        return undefined;
      case 'insert':
        if (message.relation.name !== OUTBOX_TABLE) return undefined;
        if (!this.open) throw new Error('insert outside a transaction: the stream is out of sync');
        this.open.records.push(outboxRecordFromRow(message.new));
        return undefined;
      case 'commit': {
        if (!this.open) throw new Error('commit without begin: the stream is out of sync');
        const { records } = this.open;
        this.open = undefined;
        if (!message.commitEndLsn) throw new Error('commit without an end LSN');
        const commitTimeMs = Number(message.commitTime as bigint) / 1000;
        // The commit time travels in the committed-at header: per partition it only grows, so a consumer can say how
        // current its read model is (everything committed up to the last one it handled).
        const committedAt = Math.floor(commitTimeMs);
        return {
          records: records.map((r) => ({ ...r, committedAt })),
          commitEndLsn: parseLsn(message.commitEndLsn),
          commitTimeMs,
        };
      }
      default:
        return undefined;
    }
  }
}
