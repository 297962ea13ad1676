import { Client } from 'pg';
import type { LabLayout } from '../layout/lab-layout';
import { postgresUrl } from './postgres';

export type LabDatabase = 'orders' | 'inventory' | 'notifications';

/** SQL against the lab's service databases, one connection per database opened on first use. */
export interface LabSql {
  query(database: LabDatabase, text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** For whatever judges a lab by its data (experiment verdicts, tests): read-only by convention, never pooled. */
export function labSql(layout: LabLayout): LabSql {
  const clients = new Map<LabDatabase, Promise<Client>>();
  const connect = (database: LabDatabase) => {
    let client = clients.get(database);
    if (!client) {
      const c = new Client({ connectionString: postgresUrl(layout, database) });
      // Postgres may be the fault: a lost connection is dropped (never an unhandled error) and the next query opens
      // another.
      c.on('error', () => clients.delete(database));
      client = c.connect().then(() => c);
      client.catch(() => clients.delete(database));
      clients.set(database, client);
    }
    return client;
  };
  return {
    async query(database, text, params = []) {
      return (await (await connect(database)).query(text, params)).rows;
    },
    async close() {
      const open = [...clients.values()];
      clients.clear();
      await Promise.all(open.map(async (c) => (await c).end().catch(() => undefined)));
    },
  };
}
