import { Pool } from 'pg';
import type { DependencyProbe } from './dependency-probe';

/** Readiness of a Postgres database: a real `SELECT 1` over a one-connection pool kept for the probe. */
export function postgresProbe(url: string, name = 'postgres'): DependencyProbe {
  const pool = new Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 1000, idleTimeoutMillis: 30000 });
  // An idle connection that the server closes (a restart) is an expected event, not a crash.
  pool.on('error', () => undefined);
  return {
    name,
    check: async () => {
      await pool.query('SELECT 1');
    },
    close: () => pool.end(),
  };
}
