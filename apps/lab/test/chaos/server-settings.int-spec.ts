// The server settings a naive variant sets for its run (relay-outage-wal-capped), against the test lab's real
// Postgres: set with ALTER SYSTEM and live after the reload, back to the server's own values after the reset, refused
// when not a setting's shape, and refused for a cap smaller than one WAL segment (a cluster from before 1 MiB ones).
import { Client } from 'pg';
import type { SqlQuery } from '../../src/chaos/evidence';
import { applyServerSettings, resetServerSettings } from '../../src/chaos/server-settings';

const pgUrl = process.env['FAULTLINE_TEST_PG_URL'];
if (!pgUrl) throw new Error('FAULTLINE_TEST_PG_URL is not set: run with --selectProjects integration');

describe('server settings of a naive variant (real Postgres)', () => {
  const client = new Client({ connectionString: `${pgUrl}/postgres` });
  const sql: SqlQuery = async (_database, text, params) => (await client.query(text, params)).rows;
  const show = async (name: string) => String((await client.query(`SELECT current_setting('${name}') AS v`)).rows[0].v);

  beforeAll(() => client.connect());
  afterAll(async () => {
    await resetServerSettings(sql, ['max_slot_wal_keep_size', 'checkpoint_timeout']).catch(() => undefined);
    await client.end();
  });

  it('sets them for the run and resets them to what the server had', async () => {
    const before = { cap: await show('max_slot_wal_keep_size'), checkpoints: await show('checkpoint_timeout') };
    expect(await show('wal_segment_size')).toBe('1MB');
    expect(await applyServerSettings(sql, { max_slot_wal_keep_size: '1MB', checkpoint_timeout: '30s' })).toEqual([
      'max_slot_wal_keep_size = 1MB',
      'checkpoint_timeout = 30s',
    ]);
    expect({ cap: await show('max_slot_wal_keep_size'), checkpoints: await show('checkpoint_timeout') }).toEqual({
      cap: '1MB',
      checkpoints: '30s',
    });
    await resetServerSettings(sql, ['max_slot_wal_keep_size', 'checkpoint_timeout']);
    // The reload reaches this session asynchronously: the next statements see it within moments.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (await show('max_slot_wal_keep_size')) !== before.cap)
      await new Promise((r) => setTimeout(r, 100));
    expect({ cap: await show('max_slot_wal_keep_size'), checkpoints: await show('checkpoint_timeout') }).toEqual(
      before,
    );
  });

  it('refuses what is not a setting, and a cap below one WAL segment', async () => {
    await expect(applyServerSettings(sql, { "work_mem'; DROP TABLE x; --": '1MB' })).rejects.toThrow(
      /not a server setting/,
    );
    await expect(applyServerSettings(sql, { max_slot_wal_keep_size: '512kB' })).rejects.toThrow(
      /1MB WAL segments, more than max_slot_wal_keep_size = 512kB/,
    );
    expect(await show('max_slot_wal_keep_size')).toBe('-1');
  });
});
