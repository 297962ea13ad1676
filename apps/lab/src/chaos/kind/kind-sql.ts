// SQL on the kind target: `kubectl exec` into the postgres StatefulSet's pod and run psql over its Unix socket (the
// official image trusts local connections), so the same verdict checks as on the local target (checks.ts) read the
// same tables, without exposing Postgres outside the cluster. psql has no bind parameters on the command line:
// `$n` placeholders are replaced by quoted literals here, and rows come back as one JSON array (json_agg).
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
  if (Array.isArray(value)) return sqlLiteral(`{${value.map((v) => `"${String(v).replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`);
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
    const out = await kubectl.output(kubectlPlan.psql(database, jsonRowsSql(text, params)));
    // --quiet --tuples-only: the output is the JSON array and nothing else (json_agg may break it across lines).
    return JSON.parse(out.trim() || '[]') as Record<string, unknown>[];
  };
}

