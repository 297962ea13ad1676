import type { DataSource } from 'typeorm';
import type { SqlExecutor } from './sql';

/**
 * Runs `work` in one local transaction (READ COMMITTED) and commits, or rolls back on any error. The effect, its
 * outbox row and its inbox row are written through the same executor, so they commit or vanish together.
 */
export async function inTransaction<T>(dataSource: DataSource, work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  return dataSource.transaction((manager) => work(manager));
}
