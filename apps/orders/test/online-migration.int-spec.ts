// The line_count rollout's steps against a real Postgres, through the same functions the migration job runs: each
// step applies and rolls back; in every state the releases on either side of it can write and read; a backfill
// interrupted half way resumes where it stopped and writes no row twice; the job refuses steps out of order.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource, MigrationInterface } from 'typeorm';
import { createScratchDatabase, type ScratchDatabase } from '@faultline/database';
import { ordersMigrations } from '../src/database/orders.migrations';
import { backfill, backfillName } from '../src/online-migration/backfill';
import { JobContext, JobEvent, runCommand, status, UsageError } from '../src/online-migration/line-count.job';
import { configureGuard } from '../src/online-migration/line-count.migrations';
import { insertOrderSql, LineCountRelease, readColumn } from '../src/online-migration/line-count.release';
import { STEP_NAMES } from '../src/online-migration/line-count.steps';

const pgUrl = process.env['FAULTLINE_TEST_PG_URL'] as string;
const database = `orders_migration_test_${Date.now().toString(36)}`;
let scratch: ScratchDatabase | undefined;
let db: Client;
const sources: DataSource[] = [];
const events: JobEvent[] = [];

/** Releases that must work in the state after each step (see the table in line-count.steps.ts). */
const COMPATIBLE: Record<string, LineCountRelease[]> = {
  start: ['item-count'],
  expand: ['item-count', 'dual-write'],
  'dual-write': ['item-count', 'dual-write'],
  backfill: ['dual-write', 'read-line-count'],
  constrain: ['dual-write', 'read-line-count'],
  'flip-reads': ['dual-write', 'read-line-count'],
  'relax-old': ['read-line-count', 'line-count'],
  'stop-old-writes': ['read-line-count', 'line-count'],
  contract: ['line-count'],
};

function context(signal?: AbortSignal): JobContext {
  return {
    db,
    emit: (e) => events.push(e),
    batchSize: 250,
    batchPauseMs: 0,
    seedBatch: 1000,
    signal,
    dataSource: async (migrations: (new () => MigrationInterface)[]) => {
      const ds = new DataSource({
        type: 'postgres',
        url: `${pgUrl}/${database}`,
        migrations,
        migrationsTableName: 'migrations',
        logging: false,
      });
      sources.push(ds);
      return ds.initialize();
    },
  } as JobContext;
}

async function insertAs(release: LineCountRelease, lines = 2): Promise<string> {
  const id = randomUUID();
  await db.query(insertOrderSql(release), [id, 'alice', 'PENDING', lines, new Date()]);
  await db.query(
    "INSERT INTO order_items (order_id, line, sku, quantity) SELECT $1, l, 'SKU-0001', 1 FROM generate_series(1, $2::int) l",
    [id, lines],
  );
  return id;
}

/** Every compatible release can place an order, and every compatible reader sees a line count on every row. */
async function expectCompatible(state: string): Promise<void> {
  for (const release of COMPATIBLE[state]) {
    const id = await insertAs(release, 3);
    const { rows } = await db.query(`SELECT ${readColumn(release)} AS lines FROM orders WHERE id = $1`, [id]);
    expect({ state, release, lines: rows[0]?.lines }).toEqual({ state, release, lines: 3 });
  }
  for (const reader of new Set(COMPATIBLE[state].map(readColumn))) {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM orders WHERE ${reader} IS NULL`);
    expect({ state, reader, missing: rows[0].n }).toEqual({ state, reader, missing: 0 });
  }
}

async function schema() {
  const s = (await status(db)) as { step: string; release: string; columns: unknown[]; constraints: unknown[] };
  return { step: s.step, release: s.release, columns: s.columns, constraints: s.constraints };
}

beforeAll(async () => {
  scratch = await createScratchDatabase((name) => `${pgUrl}/${name}`, database);
  const base = new DataSource({
    type: 'postgres',
    url: `${pgUrl}/${database}`,
    migrations: ordersMigrations,
    migrationsTableName: 'migrations',
  });
  await base.initialize();
  await base.runMigrations();
  await base.destroy();
  db = new Client({ connectionString: `${pgUrl}/${database}`, application_name: 'orders-migrate' });
  await db.connect();
  configureGuard({ lockTimeoutMs: 100, attempts: 20 });
  // History written by the release before the change: what the backfill must carry over.
  await db.query(
    `INSERT INTO orders (id, customer_id, status, item_count, created_at, updated_at)
     SELECT gen_random_uuid(), 'alice', 'CONFIRMED', 1 + i % 3, now(), now() FROM generate_series(1, 3000) i`,
  );
});

afterAll(async () => {
  for (const ds of sources) if (ds.isInitialized) await ds.destroy();
  await db?.end();
  await scratch?.drop();
});

describe('the line_count rollout', () => {
  it('applies every step in order, each state working with the releases on both sides of it', async () => {
    const original = await schema();
    expect(original.step).toBe('start');
    await expectCompatible('start');
    // Proof the compatibility check can fail: before expand, the dual-write release cannot write.
    await expect(insertAs('dual-write')).rejects.toThrow(/line_count/);

    for (const step of STEP_NAMES.slice(1)) {
      await runCommand(context(), 'apply', step);
      expect((await schema()).step).toBe(step);
      await expectCompatible(step);
    }
    const done = await schema();
    expect(done.release).toBe('line-count');
    expect(done.columns).toEqual([{ name: 'line_count', nullable: false }]);
    expect(done.constraints).toEqual(expect.arrayContaining([{ name: 'orders_line_count_range', validated: true }]));
    // And the other way: after contract, a release that still writes item_count fails.
    await expect(insertAs('read-line-count')).rejects.toThrow(/item_count/);
    // The values carried over: every order's line_count equals its number of lines... for the orders that have
    // lines (the 3,000 history rows were inserted without items on purpose: they check the copy, not the items).
    const { rows } = await db.query(
      'SELECT count(*)::int AS n FROM orders o WHERE EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id) AND line_count <> (SELECT count(*) FROM order_items i WHERE i.order_id = o.id)',
    );
    expect(rows[0].n).toBe(0);
  });

  it('rolls every step back to the start, each intermediate state still working, and applies them again', async () => {
    for (const step of [...STEP_NAMES.slice(1)].reverse()) {
      await runCommand(context(), 'rollback', step);
      const previous = STEP_NAMES[STEP_NAMES.indexOf(step) - 1];
      expect((await schema()).step).toBe(previous);
      await expectCompatible(previous);
    }
    const back = await schema();
    expect(back.release).toBe('item-count');
    expect(back.columns).toEqual([{ name: 'item_count', nullable: false }]);
    expect(back.constraints).toEqual([
      { name: 'orders_item_count_check', validated: true },
      { name: 'orders_status_check', validated: true },
    ]);
    // Orders written by the line-count release while it ran got their item_count back in the rollback.
    expect((await db.query('SELECT count(*)::int AS n FROM orders WHERE item_count IS NULL')).rows[0].n).toBe(0);
    for (const step of STEP_NAMES.slice(1, 3)) await runCommand(context(), 'apply', step);
    expect((await schema()).step).toBe('dual-write');
  });

  it('resumes an interrupted backfill where it stopped, writing no row twice', async () => {
    const { rows: before } = await db.query('SELECT count(*)::int AS n FROM orders WHERE line_count IS NULL');
    expect(before[0].n).toBeGreaterThan(2500);
    await db.query('DELETE FROM online_migration_progress');
    const stop = new AbortController();
    let batches = 0;
    const first = await backfill(db, {
      from: 'item_count',
      to: 'line_count',
      batchSize: 200,
      pauseMs: 0,
      signal: stop.signal,
      onProgress: () => {
        if (++batches === 4) stop.abort();
      },
    });
    expect(first).toEqual({ rowsDone: expect.any(Number), resumedFrom: null, finished: false });
    expect(first.rowsDone).toBeGreaterThan(0);
    const saved = (
      await db.query('SELECT last_id, rows_done::int AS done FROM online_migration_progress WHERE backfill = $1', [
        backfillName('line_count'),
      ])
    ).rows[0];
    expect(saved.done).toBe(first.rowsDone);

    const resumed: { lastId: string; rowsDone: number }[] = [];
    let cursorBatches = 0;
    const second = await backfill(db, {
      from: 'item_count',
      to: 'line_count',
      batchSize: 200,
      pauseMs: 0,
      onResume: (r) => resumed.push(r),
      onProgress: (p) => void (p.phase === 'cursor' && cursorBatches++),
    });
    // It walked on from the saved key, not from the beginning: only the batches the first run had not done.
    expect(cursorBatches).toBe(Math.ceil(before[0].n / 200) - 4);
    expect(resumed).toEqual([{ lastId: saved.last_id, rowsDone: first.rowsDone }]);
    expect(second.finished).toBe(true);
    // Exactly the rows that were missing were written, once: the counter would exceed them on any double write.
    expect(second.rowsDone).toBe(before[0].n);
    expect((await db.query('SELECT count(*)::int AS n FROM orders WHERE line_count IS NULL')).rows[0].n).toBe(0);
  });

  it('refuses steps out of order and names the next one', async () => {
    await expect(runCommand(context(), 'apply', 'contract')).rejects.toThrow(UsageError);
    await expect(runCommand(context(), 'apply', 'contract')).rejects.toThrow(/next one is backfill/);
    await expect(runCommand(context(), 'rollback', 'expand')).rejects.toThrow(
      /only the last completed step \(dual-write\)/,
    );
    await expect(runCommand(context(), 'naive', undefined)).rejects.toThrow(/starts from the beginning/);
  });
});
