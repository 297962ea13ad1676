// The one way the lab runs SQL: `SqlExecutor` is anything with pg's `query(text, params)` (pg's Client and Pool,
// TypeORM's DataSource and EntityManager, the kind target's psql session), and `queryRows` reads the rows back
// whichever of them answered. This entry point (`@faultline/database/sql`) loads neither TypeORM nor pg, so the relay
// and recommendations can use the outbox and inbox helpers without them.

/** The smallest thing that runs SQL, so helpers run inside whatever transaction the caller already holds. */
export interface SqlExecutor {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * The rows a query returned, whichever client ran it: pg returns a Result (`rows`), TypeORM returns the rows array for
 * SELECT/RETURNING, and `[rows, affected]` for UPDATE/DELETE on postgres.
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

/** Runs one statement and returns its rows, typed by the caller (who knows the SELECT list). */
export async function queryRows<T = Record<string, unknown>>(
  db: SqlExecutor,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  return returnedRows(await db.query(sql, params)) as T[];
}
