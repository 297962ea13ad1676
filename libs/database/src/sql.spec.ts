import { queryRows, returnedRows } from './sql';

describe('returnedRows', () => {
  it('reads returned rows from pg Results, TypeORM arrays and [rows, affected]', () => {
    expect(returnedRows({ rows: [1], rowCount: 1 })).toEqual([1]);
    expect(returnedRows([{ a: 1 }])).toEqual([{ a: 1 }]);
    expect(returnedRows([[{ a: 1 }], 1])).toEqual([{ a: 1 }]);
    expect(returnedRows([[], 0])).toEqual([]);
    expect(returnedRows(undefined)).toEqual([]);
  });

  it('queryRows passes the statement and its parameters through and unwraps the answer', async () => {
    const seen: unknown[] = [];
    const db = { query: async (sql: string, params?: unknown[]) => (seen.push(sql, params), [[{ n: 1 }], 1]) };
    expect(await queryRows<{ n: number }>(db, 'UPDATE t SET n = $1 RETURNING n', [1])).toEqual([{ n: 1 }]);
    expect(seen).toEqual(['UPDATE t SET n = $1 RETURNING n', [1]]);
  });
});
