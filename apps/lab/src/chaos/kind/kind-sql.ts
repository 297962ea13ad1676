// SQL on the kind target: `kubectl exec` into the postgres StatefulSet's pod and run psql over its Unix socket (the
// official image trusts local connections), so the same verdict checks as on the local target (checks.ts) read the
// same tables, without exposing Postgres outside the cluster. psql has no bind parameters on the command line:
// `$n` placeholders are replaced by quoted literals here, and rows come back as one JSON array (json_agg).
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { SqlExecutor } from '@faultline/database/sql';
import type { SqlQuery } from '../evidence';
import { kubectlPlan } from './kind-chaos-plan';
import type { Kubectl } from './kubectl';

/** A SQL literal for one parameter: strings quoted ('' doubled), numbers as they are, arrays as a text[] literal. */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot send ${value} to psql`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (Array.isArray(value))
    return sqlLiteral(`{${value.map((v) => `"${String(v).replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`);
  const text = String(value);
  if (text.includes('\0')) throw new Error('cannot send a NUL byte to psql');
  return `'${text.replace(/'/g, "''")}'`;
}

/** `text` with $1…$n replaced by literals (highest first, so $1 never eats the start of $10). */
export function inlineParams(text: string, params: unknown[] = []): string {
  let out = text;
  for (let i = params.length; i >= 1; i--) out = out.split(`$${i}`).join(sqlLiteral(params[i - 1]));
  if (/\$[0-9]/.test(out)) throw new Error(`a placeholder has no parameter in: ${text}`);
  return out;
}

/** The statement psql runs: the query's rows as one JSON array on one line. */
export function jsonRowsSql(text: string, params?: unknown[]): string {
  return `SELECT coalesce(json_agg(row_to_json(q)), '[]'::json) FROM (${inlineParams(text, params)}) q`;
}

export function kindSql(kubectl: Kubectl): SqlQuery {
  return async (database, text, params) => {
    // A statement without rows (ALTER SYSTEM, a plain write) runs as it is: it cannot be a subquery.
    const { sql, rows } = sessionStatement(text, params);
    const out = await kubectl.output(kubectlPlan.psql(database, sql));
    // --quiet --tuples-only: the output is the JSON array and nothing else (json_agg may break it across lines).
    return rows ? (JSON.parse(out.trim() || '[]') as Record<string, unknown>[]) : [];
  };
}

/**
 * One statement as a psql session runs it: a query returning rows (SELECT, WITH, or a write with RETURNING) comes
 * back as one JSON array line; anything else (BEGIN, COMMIT, a plain INSERT) prints nothing under --quiet.
 */
export function sessionStatement(text: string, params?: unknown[]): { sql: string; rows: boolean } {
  const statement = text.trim().replace(/;\s*$/, '');
  if (/^(SELECT|WITH|VALUES)\b/i.test(statement)) return { sql: jsonRowsSql(statement, params), rows: true };
  const sql = inlineParams(statement, params);
  if (/^(INSERT|UPDATE|DELETE)\b[\s\S]*\bRETURNING\b/i.test(statement))
    return { sql: `WITH q AS (${sql}) SELECT coalesce(json_agg(row_to_json(q)), '[]'::json) FROM q`, rows: true };
  return { sql, rows: false };
}

/** What psql printed for one statement, up to its end marker `<marker> <ERROR> '<LAST_ERROR_MESSAGE>'`. */
export function sessionResult(printed: string, markerLine: string, rows: boolean): Record<string, unknown>[] {
  const [, failed, message] = /^\S+ (true|false) '?(.*?)'?$/.exec(markerLine) ?? [];
  if (failed === 'true') throw new Error(`psql: ${message}`);
  if (!rows) return [];
  return JSON.parse(printed.trim() || '[]') as Record<string, unknown>[];
}

/**
 * One psql session in the postgres pod, kept open: statements run in order on one connection, so BEGIN … COMMIT
 * hold (what `lab reconcile --repair` needs; `kindSql` runs each statement in a psql of its own). After each
 * statement psql echoes a marker with its ERROR variable, which is how a failure is told from a result.
 */
export class PsqlSession implements SqlExecutor {
  private printed = '';
  private statements = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private ended?: string;
  private wake?: () => void;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.printed += chunk;
      this.wake?.();
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      this.ended = `the psql session ended (exit ${code}): ${stderr.trim().split('\n').slice(-2).join(' ')}`;
      this.wake?.();
    });
  }

  static open(kubectl: Kubectl, database: string): PsqlSession {
    return new PsqlSession(kubectl.spawn(kubectlPlan.psqlSession(database)));
  }

  query(text: string, params?: unknown[]): Promise<Record<string, unknown>[]> {
    const result = this.queue.then(() => this.run(text, params));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async run(text: string, params?: unknown[]): Promise<Record<string, unknown>[]> {
    const { sql, rows } = sessionStatement(text, params);
    const marker = `__LAB_END_${++this.statements}__`;
    this.child.stdin.write(`${sql};\n\\echo ${marker} :ERROR :'LAST_ERROR_MESSAGE'\n`);
    for (;;) {
      const at = this.printed.indexOf(`${marker} `);
      const eol = at < 0 ? -1 : this.printed.indexOf('\n', at);
      if (eol >= 0) {
        const printed = this.printed.slice(0, at);
        const markerLine = this.printed.slice(at, eol);
        this.printed = this.printed.slice(eol + 1);
        return sessionResult(printed, markerLine, rows);
      }
      if (this.ended) throw new Error(this.ended);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async close(): Promise<void> {
    if (this.ended) return;
    const closed = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.stdin.end();
    await closed;
  }
}
