/**
 * The smallest thing that runs SQL: TypeORM's EntityManager and QueryRunner and pg's Client and Pool all fit, so the
 * outbox and inbox helpers run inside whatever transaction the caller already holds.
 */
export interface SqlExecutor {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * The rows a query returned, whichever client ran it: pg returns a Result (`rows`), TypeORM's `query` returns the
 * rows array for SELECT/RETURNING, and `[rows, affected]` for some statements on postgres.
 */
export function returnedRows(result: unknown): unknown[] {
  if (Array.isArray(result)) {
    if (result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0];
    return result;
  }
  if (result && typeof result === 'object' && Array.isArray((result as { rows?: unknown }).rows)) {
    return (result as { rows: unknown[] }).rows;
  }
  return [];
}
