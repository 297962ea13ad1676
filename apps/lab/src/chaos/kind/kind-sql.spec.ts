import { inlineParams, jsonRowsSql, sessionResult, sessionStatement, sqlLiteral } from './kind-sql';

describe('SQL through psql in the postgres pod', () => {
  it('quotes literals: strings with doubled quotes, numbers bare, arrays as a Postgres array literal', () => {
    expect(sqlLiteral('chaos-ab12cd-%')).toBe("'chaos-ab12cd-%'");
    expect(sqlLiteral("o'brien")).toBe("'o''brien'");
    expect(sqlLiteral(3)).toBe('3');
    expect(sqlLiteral(null)).toBe('NULL');
    expect(sqlLiteral(['9d3c…-1', 'a"b'])).toBe(`'{"9d3c…-1","a\\"b"}'`);
    expect(() => sqlLiteral(Number.NaN)).toThrow();
  });

  it('replaces every placeholder, $10 before $1', () => {
    const params = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(inlineParams('SELECT $1, $10', params)).toBe('SELECT 1, 10');
    expect(inlineParams('SELECT * FROM orders WHERE customer_id LIKE $1', ['chaos-x-%'])).toBe(
      "SELECT * FROM orders WHERE customer_id LIKE 'chaos-x-%'",
    );
    expect(() => inlineParams('SELECT $2', ['a'])).toThrow('has no parameter');
  });

  it('asks for the rows as one JSON array', () => {
    expect(
      jsonRowsSql('SELECT order_id::text AS id FROM notifications WHERE order_id = ANY($1::uuid[])', [['x']]),
    ).toBe(
      `SELECT coalesce(json_agg(row_to_json(q)), '[]'::json) FROM (SELECT order_id::text AS id FROM notifications WHERE order_id = ANY('{"x"}'::uuid[])) q`,
    );
  });
});

describe('a statement of a psql session', () => {
  it('comes back as JSON rows when it returns rows (SELECT, WITH, a write with RETURNING), as nothing otherwise', () => {
    expect(sessionStatement('SELECT id FROM orders WHERE id = $1;', ['o-1'])).toEqual({
      sql: "SELECT coalesce(json_agg(row_to_json(q)), '[]'::json) FROM (SELECT id FROM orders WHERE id = 'o-1') q",
      rows: true,
    });
    expect(sessionStatement('DELETE FROM outbox WHERE aggregateid = $1 RETURNING id', ['o-1'])).toEqual({
      sql: "WITH q AS (DELETE FROM outbox WHERE aggregateid = 'o-1' RETURNING id) SELECT coalesce(json_agg(row_to_json(q)), '[]'::json) FROM q",
      rows: true,
    });
    expect(sessionStatement('BEGIN')).toEqual({ sql: 'BEGIN', rows: false });
    expect(sessionStatement('INSERT INTO outbox (id) VALUES ($1)', ['e'])).toEqual({
      sql: "INSERT INTO outbox (id) VALUES ('e')",
      rows: false,
    });
  });

  it('is told failed or not by the ERROR variable psql echoes after it', () => {
    expect(sessionResult('[{"n":1}]\n', "__LAB_END_3__ false ''", true)).toEqual([{ n: 1 }]);
    expect(sessionResult('', "__LAB_END_4__ false ''", false)).toEqual([]);
    expect(() =>
      sessionResult('', '__LAB_END_5__ true \'duplicate key value violates unique constraint "outbox_pkey"\'', false),
    ).toThrow('psql: duplicate key value violates unique constraint "outbox_pkey"');
  });
});
