// A throwaway database on a Postgres server, for work that needs a schema of its own beside the lab's: the
// integration tests and the bench create one, and drop it again with any replication slot a relay left on it (a
// slot pins its database, and WAL for the whole server, for as long as it exists).
import { Client } from 'pg';

export interface ScratchDatabase {
  readonly name: string;
  /** Its connection URL. */
  readonly url: string;
  /** Drops it and its replication slots; harmless if already gone. */
  drop(): Promise<void>;
}

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const SLOTS_TIMEOUT_MS = 30_000;

/**
 * Creates database `name` on the server `urlOf` points at (`urlOf(database)` is a connection URL to that database of
 * it), dropping whatever an earlier run left under that name first.
 */
export async function createScratchDatabase(
  urlOf: (database: string) => string,
  name: string,
): Promise<ScratchDatabase> {
  if (!NAME.test(name))
    throw new Error(`scratch database name "${name}": expected lowercase letters, digits and underscores`);
  await dropScratchDatabase(urlOf, name);
  await withAdmin(urlOf, (admin) => admin.query(`CREATE DATABASE ${name}`));
  return { name, url: urlOf(name), drop: () => dropScratchDatabase(urlOf, name) };
}

/**
 * Drops database `name` (checked by createScratchDatabase, its only caller) WITH (FORCE) (its connections are
 * closed), after its replication slots: a relay still streaming from one (a run killed before its cleanup) is
 * disconnected first.
 */
async function dropScratchDatabase(urlOf: (database: string) => string, name: string): Promise<void> {
  await withAdmin(urlOf, async (admin) => {
    const deadline = Date.now() + SLOTS_TIMEOUT_MS;
    for (;;) {
      await admin.query(
        'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL',
        [name],
      );
      const idle = await admin.query<{ slot_name: string }>(
        'SELECT slot_name FROM pg_replication_slots WHERE database = $1 AND active_pid IS NULL',
        [name],
      );
      // A terminated walsender may not have let go yet, or its client reconnects: the next round catches it.
      for (const { slot_name } of idle.rows)
        await admin.query('SELECT pg_drop_replication_slot($1)', [slot_name]).catch(() => undefined);
      const left = await admin.query<{ slot_name: string }>(
        'SELECT slot_name FROM pg_replication_slots WHERE database = $1',
        [name],
      );
      if (left.rowCount === 0) break;
      if (Date.now() > deadline)
        throw new Error(
          `replication slots on ${name} still in use after ${SLOTS_TIMEOUT_MS / 1000} s: ${left.rows.map((r) => r.slot_name).join(', ')}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}

async function withAdmin<T>(urlOf: (database: string) => string, work: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: urlOf('postgres') });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}
