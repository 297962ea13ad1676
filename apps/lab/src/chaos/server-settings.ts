// A naive variant of the database server itself (relay-outage-wal-capped: max_slot_wal_keep_size): settings Postgres
// reloads without a restart, set for the run with ALTER SYSTEM and reset after it, on either target, through the
// same SQL the checks use. `variant.postgres` in experiment.yaml names them.
import type { SqlQuery } from './evidence';

const NAME = /^[a-z_]+$/;
const VALUE = /^[A-Za-z0-9_.-]+$/;

function checked(settings: Record<string, string>): [string, string][] {
  return Object.entries(settings).map(([name, value]) => {
    if (!NAME.test(name) || !VALUE.test(value)) throw new Error(`not a server setting: ${name} = ${value}`);
    return [name, value];
  });
}

/** ALTER SYSTEM SET each, then one reload; returns what each became (SHOW), for the run's log. */
export async function applyServerSettings(sql: SqlQuery, settings: Record<string, string>): Promise<string[]> {
  const pairs = checked(settings);
  if (settings['max_slot_wal_keep_size']) {
    // A cap below one WAL segment cannot cut a slot within a run: the lab initializes Postgres with 1 MiB segments.
    const [row] = await sql(
      'orders',
      "SELECT current_setting('wal_segment_size') AS segment, pg_size_bytes(current_setting('wal_segment_size')) > pg_size_bytes($1) AS bigger",
      [settings['max_slot_wal_keep_size']],
    );
    if (row?.['bigger'] === true || row?.['bigger'] === 't') {
      throw new Error(
        `this Postgres has ${String(row['segment'])} WAL segments, more than max_slot_wal_keep_size = ${settings['max_slot_wal_keep_size']}: it was initialized before the lab used 1 MiB segments (lab down, remove its data folder, lab up)`,
      );
    }
  }
  for (const [name, value] of pairs) await sql('orders', `ALTER SYSTEM SET ${name} = '${value}'`);
  await sql('orders', 'SELECT pg_reload_conf()');
  const shown: string[] = [];
  for (const [name] of pairs) {
    // The reload is asynchronous: a new statement sees it once the postmaster has signalled this backend.
    const deadline = Date.now() + 5000;
    for (;;) {
      const [row] = await sql(
        'orders',
        `SELECT current_setting('${name}') AS v, (SELECT count(*) FROM pg_file_settings WHERE name = '${name}' AND error IS NOT NULL)::int AS errors`,
      );
      if (Number(row?.['errors']) > 0) throw new Error(`Postgres refused ${name} = ${settings[name]}`);
      if (normalize(String(row?.['v'])) === normalize(settings[name]) || Date.now() > deadline) {
        shown.push(`${name} = ${String(row?.['v'])}`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return shown;
}

/** ALTER SYSTEM RESET each, then one reload: the server is back to its own configuration. */
export async function resetServerSettings(sql: SqlQuery, names: readonly string[]): Promise<void> {
  for (const name of names) {
    if (!NAME.test(name)) throw new Error(`not a server setting: ${name}`);
    await sql('orders', `ALTER SYSTEM RESET ${name}`);
  }
  await sql('orders', 'SELECT pg_reload_conf()');
}

const normalize = (v: string) => v.toLowerCase().replace(/\s+/g, '');
