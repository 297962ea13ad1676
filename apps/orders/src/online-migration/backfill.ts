// The backfill: copies one column into the other in small batches, each its own short transaction, so no row stays
// locked for long and no lock is held across batches. Where it stopped is written in the same transaction as the
// batch (online_migration_progress), so a killed backfill resumes exactly there, with nothing done twice.
import type { LineCountColumn } from './line-count.release';

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

export interface BackfillProgress {
  backfill: string;
  /** Rows written so far of `total`: the rows missing the value when this run began plus what earlier runs wrote. */
  scanned: number;
  total: number;
  /** Rows this backfill has written, all runs together. */
  rowsDone: number;
  batches: number;
  phase: 'cursor' | 'sweep' | 'done';
  rowsPerS: number;
  etaS: number | null;
}

export interface BackfillOptions {
  from: LineCountColumn;
  to: LineCountColumn;
  batchSize: number;
  /**
   * Pause between batches, at least as long as the batch took: the backfill never takes more than half of the
   * database's time, whatever the machine, and leaves the rest to the application.
   */
  pauseMs: number;
  onProgress?: (p: BackfillProgress) => void;
  onResume?: (info: { lastId: string; rowsDone: number }) => void;
  /** Stops after the current batch (the cursor is saved): how a test interrupts a backfill cleanly. */
  signal?: AbortSignal;
}

export interface BackfillResult {
  rowsDone: number;
  resumedFrom: string | null;
  finished: boolean;
}

/** The progress row of a backfill into `to`. */
export function backfillName(to: LineCountColumn): string {
  return `orders.${to}`;
}

export async function backfill(db: Queryable, options: BackfillOptions): Promise<BackfillResult> {
  const { from, to } = options;
  const name = backfillName(to);
  await db.query('INSERT INTO online_migration_progress (backfill) VALUES ($1) ON CONFLICT (backfill) DO NOTHING', [
    name,
  ]);
  const [saved] = (
    await db.query<{ last_id: string | null; rows_done: string }>(
      'SELECT last_id, rows_done FROM online_migration_progress WHERE backfill = $1',
      [name],
    )
  ).rows;
  let lastId = saved?.last_id ?? null;
  let rowsDone = Number(saved?.rows_done ?? 0);
  const resumedFrom = lastId;
  if (lastId) options.onResume?.({ lastId, rowsDone });

  // Progress counts the rows that need the value: those still missing it now, plus what earlier runs wrote.
  const [{ missing } = { missing: 0 }] = (
    await db.query<{ missing: number }>(`SELECT count(*)::int AS missing FROM orders WHERE ${to} IS NULL`)
  ).rows;
  const before = rowsDone;
  const total = missing + before;
  let scanned = before;
  let batches = 0;
  const began = Date.now();
  let written = 0;
  const report = (phase: BackfillProgress['phase']) => {
    const rowsPerS = written / Math.max(0.001, (Date.now() - began) / 1000);
    const scanRate = (scanned - before) / Math.max(0.001, (Date.now() - began) / 1000);
    options.onProgress?.({
      backfill: name,
      scanned,
      total,
      rowsDone,
      batches,
      phase,
      rowsPerS,
      etaS: phase === 'cursor' && scanRate > 0 ? (total - scanned) / scanRate : null,
    });
  };

  // Pass 1: walk the primary key once, locking only rows that still need the value (rows the dual-writing release
  // wrote are never touched, so the saga's updates of new orders never wait on a batch). SKIP LOCKED: a row an order
  // transaction holds right now is left to pass 2 rather than waited for.
  for (;;) {
    if (options.signal?.aborted) return { rowsDone, resumedFrom, finished: false };
    const batchBegan = Date.now();
    const [batch] = (
      await db.query<{ last_id: string | null; scanned: number; updated: number }>(
        `WITH batch AS (
           SELECT id FROM orders WHERE ($1::uuid IS NULL OR id > $1::uuid) AND ${to} IS NULL ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
         ), updated AS (
           UPDATE orders o SET ${to} = o.${from} FROM batch b WHERE o.id = b.id AND o.${to} IS NULL AND o.${from} IS NOT NULL RETURNING 1
         ), saved AS (
           UPDATE online_migration_progress SET last_id = COALESCE((SELECT id FROM batch ORDER BY id DESC LIMIT 1), last_id),
             rows_done = rows_done + (SELECT count(*) FROM updated), updated_at = now()
           WHERE backfill = $3 RETURNING 1
         )
         SELECT (SELECT id FROM batch ORDER BY id DESC LIMIT 1)::text AS last_id, (SELECT count(*) FROM batch)::int AS scanned,
                (SELECT count(*) FROM updated)::int AS updated, (SELECT count(*) FROM saved)::int AS saved`,
        [lastId, options.batchSize, name],
      )
    ).rows;
    if (!batch || batch.scanned === 0 || !batch.last_id) break;
    lastId = batch.last_id;
    scanned += batch.scanned;
    rowsDone += batch.updated;
    written += batch.updated;
    batches += 1;
    report('cursor');
    const pause = Math.max(options.pauseMs, Date.now() - batchBegan);
    if (pause > 0) await new Promise((r) => setTimeout(r, pause));
  }

  // Pass 2: whatever pass 1 skipped (locked at the time) or a writer of an older release left empty. Repeats until
  // no row is missing; the constrain step's VALIDATE is the final proof.
  let lockedRetries = 0;
  for (;;) {
    if (options.signal?.aborted) return { rowsDone, resumedFrom, finished: false };
    const [swept] = (
      await db.query<{ updated: number }>(
        `WITH updated AS (
           UPDATE orders SET ${to} = ${from} WHERE id IN (
             SELECT id FROM orders WHERE ${to} IS NULL AND ${from} IS NOT NULL LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING 1
         ), saved AS (
           UPDATE online_migration_progress SET rows_done = rows_done + (SELECT count(*) FROM updated), updated_at = now() WHERE backfill = $2 RETURNING 1
         )
         SELECT (SELECT count(*) FROM updated)::int AS updated, (SELECT count(*) FROM saved)::int AS saved`,
        [options.batchSize, name],
      )
    ).rows;
    if (!swept || swept.updated === 0) {
      // Nothing updated: done, unless rows are still missing behind a transaction's row lock; then wait for it.
      const [left] = (
        await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM orders WHERE ${to} IS NULL AND ${from} IS NOT NULL`,
        )
      ).rows;
      if (!left || left.n === 0) break;
      if (++lockedRetries > 200)
        throw new Error(`backfill ${name}: ${left.n} rows stayed locked for 10 s; run it again`);
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    rowsDone += swept.updated;
    written += swept.updated;
    batches += 1;
    report('sweep');
  }
  await db.query('UPDATE online_migration_progress SET finished_at = now(), updated_at = now() WHERE backfill = $1', [
    name,
  ]);
  report('done');
  return { rowsDone, resumedFrom, finished: true };
}

/** Forgets a backfill's position (its rollback: the copied values are harmless and stay). */
export async function resetBackfill(db: Queryable, to: LineCountColumn): Promise<void> {
  await db.query('DELETE FROM online_migration_progress WHERE backfill = $1', [backfillName(to)]);
}
