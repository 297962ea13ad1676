import type { DataSource, EntityManager } from 'typeorm';

/** What code inside a transaction gets: parameterised SQL on the transaction's connection. */
export interface Sql {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/**
 * Runs `work` in one local transaction (READ COMMITTED) and commits, or rolls back on any error. The effect, its
 * outbox row and its inbox row are written through the same `Sql`, so they commit or vanish together.
 */
export async function inTransaction<T>(dataSource: DataSource, work: (sql: Sql, manager: EntityManager) => Promise<T>): Promise<T> {
  return dataSource.transaction((manager) => work(sqlOf(manager), manager));
}

function sqlOf(manager: EntityManager): Sql {
  return {
    async query<T>(sql: string, params: unknown[] = []) {
      const result: unknown = await manager.query(sql, params);
      // TypeORM answers UPDATE/DELETE with [rows, affectedCount] and SELECT/INSERT … RETURNING with rows.
      if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
      return result as T[];
    },
  };
}
