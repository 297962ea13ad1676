// The rollout of line_count as an ordered list of steps, each either a schema migration, an application release or
// a backfill, each with its rollback. Every intermediate state works with the release before it and the one after:
//
//   step             state after it                                   release running   works with
//   start            item_count NOT NULL                              item-count        item-count, dual-write*
//   expand           + line_count (nullable)                          item-count        item-count, dual-write
//   dual-write       new rows have both                               dual-write        item-count, dual-write
//   backfill         every row has both                               dual-write        dual-write, read-line-count
//   constrain        line_count NOT NULL, 1..20                       dual-write        dual-write, read-line-count
//   flip-reads       (no schema change)                               read-line-count   dual-write, read-line-count
//   relax-old        item_count nullable                              read-line-count   read-line-count, line-count
//   stop-old-writes  new rows lack item_count                         line-count        read-line-count**, line-count
//   contract         item_count dropped                               line-count        line-count
//
//   * once expand has run   ** whose rollback first backfills item_count again
import { DataSource, MigrationInterface } from 'typeorm';
import { ordersMigrations } from '../database/orders.migrations';
import { backfill, BackfillProgress, Queryable, resetBackfill } from './backfill';
import { describeRelease, LINE_COUNT_ROLLOUT, LineCountRelease } from './line-count.release';
import {
  ConstrainLineCount1764201700002,
  ContractItemCount1764201700004,
  ExpandLineCount1764201700001,
  RelaxItemCount1764201700003,
} from './line-count.migrations';
import { NaiveLineCount1764201799999 } from './naive.migration';

export type MigrationEvent =
  | { event: 'step-start'; step: string; direction: 'apply' | 'rollback'; what: string }
  | { event: 'step-done'; step: string; direction: 'apply' | 'rollback'; ms: number; now: string }
  | { event: 'lock-retry'; statement: string; attempt: number; attempts: number }
  | { event: 'release'; release: LineCountRelease; meaning: string }
  | { event: 'release-acknowledged'; release: LineCountRelease; instances: string[]; waitedMs: number }
  | { event: 'transactions-drained'; waitedMs: number }
  | { event: 'backfill-resume'; lastId: string; rowsDone: number }
  | ({ event: 'progress' } & BackfillProgress)
  | { event: 'seed'; inserted: number; total: number; rowsPerS: number }
  | { event: 'warning'; message: string };

export interface StepContext {
  /** A plain session on the orders database (autocommit), application_name orders-migrate. */
  db: Queryable;
  /** A TypeORM DataSource knowing exactly these migrations (closed by the caller). */
  dataSource: (migrations: (new () => MigrationInterface)[]) => Promise<DataSource>;
  emit: (e: MigrationEvent) => void;
  batchSize: number;
  batchPauseMs: number;
  signal?: AbortSignal;
}

export interface Step {
  name: string;
  what: string;
  apply(ctx: StepContext): Promise<void>;
  rollback(ctx: StepContext): Promise<void>;
}

/** The TypeORM migrations of this rollout, in order (the orders service never applies these at start). */
export const lineCountMigrations: (new () => MigrationInterface)[] = [
  ExpandLineCount1764201700001,
  ConstrainLineCount1764201700002,
  RelaxItemCount1764201700003,
  ContractItemCount1764201700004,
];

/** Every migration TypeORM must know to apply or revert a step (the base history, the steps, the naive one). */
export const allOrdersMigrations = [...ordersMigrations, ...lineCountMigrations, NaiveLineCount1764201799999];

async function applyMigration(ctx: StepContext, migration: new () => MigrationInterface): Promise<void> {
  const name = new migration().name;
  const applied =
    (await ctx.db.query<{ name: string }>('SELECT name FROM migrations WHERE name = $1', [name])).rows.length > 0;
  if (applied) return;
  // Only the base history and the rollout's migrations up to this one: runMigrations applies every pending one.
  const upTo = [...ordersMigrations, ...lineCountMigrations.slice(0, lineCountMigrations.indexOf(migration) + 1)];
  const done = await (
    await ctx.dataSource(upTo.length > ordersMigrations.length ? upTo : [...ordersMigrations, migration])
  ).runMigrations({ transaction: 'each' });
  if (!done.some((m) => m.name === name))
    throw new Error(`migration ${name} did not run (ran: ${done.map((m) => m.name).join(', ') || 'none'})`);
}

async function revertMigration(ctx: StepContext, migration: new () => MigrationInterface): Promise<void> {
  const name = new migration().name;
  const [last] = (
    await ctx.db.query<{ name: string }>('SELECT name FROM migrations ORDER BY timestamp DESC, id DESC LIMIT 1')
  ).rows;
  if (last?.name !== name) {
    const applied = (await ctx.db.query('SELECT 1 FROM migrations WHERE name = $1', [name])).rows.length > 0;
    if (!applied) return;
    throw new Error(`cannot revert ${name}: the last applied migration is ${last?.name}`);
  }
  // undoLastMigration ignores a migration's own `transaction = false`: say it here, or down() runs in one transaction.
  const transaction = new migration().transaction === false ? 'none' : 'each';
  await (await ctx.dataSource(allOrdersMigrations)).undoLastMigration({ transaction });
}

/**
 * Switches every orders instance to `release` and returns once it is safe to rely on it: each live instance
 * (heartbeat younger than 5 s) acknowledged it, and no orders transaction that began before those
 * acknowledgements is still open (such a transaction may have read the previous release).
 */
export async function rollOut(ctx: StepContext, release: LineCountRelease): Promise<void> {
  ctx.emit({ event: 'release', release, meaning: describeRelease(release) });
  await ctx.db.query('UPDATE schema_release SET release = $2, updated_at = now() WHERE rollout = $1', [
    LINE_COUNT_ROLLOUT,
    release,
  ]);
  const began = Date.now();
  for (;;) {
    const rows = (
      await ctx.db.query<{ instance: string; release: string }>(
        "SELECT instance, release FROM schema_release_seen WHERE rollout = $1 AND seen_at > now() - interval '5 seconds' ORDER BY instance",
        [LINE_COUNT_ROLLOUT],
      )
    ).rows;
    const behind = rows.filter((r) => r.release !== release);
    if (behind.length === 0) {
      if (rows.length === 0)
        ctx.emit({ event: 'warning', message: 'no live orders instance: the release takes effect when orders starts' });
      ctx.emit({
        event: 'release-acknowledged',
        release,
        instances: rows.map((r) => r.instance),
        waitedMs: Date.now() - began,
      });
      break;
    }
    if (Date.now() - began > 30_000)
      throw new Error(
        `orders instances still on an older release after 30 s: ${behind.map((r) => `${r.instance} (${r.release})`).join(', ')}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
  const drainFrom = Date.now();
  const [{ t } = { t: '' }] = (await ctx.db.query<{ t: string }>('SELECT now()::text AS t')).rows;
  for (;;) {
    const [open] = (
      await ctx.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'orders' AND xact_start < $1::timestamptz",
        [t],
      )
    ).rows;
    if (!open || open.n === 0) break;
    if (Date.now() - drainFrom > 30_000)
      throw new Error(`${open.n} orders transactions begun before the release are still open after 30 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
  ctx.emit({ event: 'transactions-drained', waitedMs: Date.now() - drainFrom });
}

function migrationStep(name: string, what: string, migration: new () => MigrationInterface): Step {
  return {
    name,
    what,
    apply: (ctx) => applyMigration(ctx, migration),
    rollback: (ctx) => revertMigration(ctx, migration),
  };
}

function releaseStep(name: string, release: LineCountRelease, previous: LineCountRelease): Step {
  return {
    name,
    what: `release ${release}: ${describeRelease(release)}`,
    apply: (ctx) => rollOut(ctx, release),
    rollback: (ctx) => rollOut(ctx, previous),
  };
}

function backfillInto(ctx: StepContext, from: 'item_count' | 'line_count', to: 'item_count' | 'line_count') {
  return backfill(ctx.db, {
    from,
    to,
    batchSize: ctx.batchSize,
    pauseMs: ctx.batchPauseMs,
    signal: ctx.signal,
    onProgress: (p) => ctx.emit({ event: 'progress', ...p }),
    onResume: (r) => ctx.emit({ event: 'backfill-resume', ...r }),
  }).then((r) => {
    if (!r.finished)
      throw new Error(`backfill of ${to} interrupted after ${r.rowsDone} rows; run the step again to resume`);
  });
}

export { applyMigration, revertMigration };

export const LINE_COUNT_STEPS: Step[] = [
  migrationStep('expand', 'add line_count, nullable (catalog only)', ExpandLineCount1764201700001),
  releaseStep('dual-write', 'dual-write', 'item-count'),
  {
    name: 'backfill',
    what: 'copy item_count into line_count, in batches, resumable',
    apply: (ctx) => backfillInto(ctx, 'item_count', 'line_count'),
    rollback: (ctx) => resetBackfill(ctx.db, 'line_count'),
  },
  migrationStep(
    'constrain',
    'line_count NOT NULL via CHECK NOT VALID → VALIDATE → SET NOT NULL',
    ConstrainLineCount1764201700002,
  ),
  releaseStep('flip-reads', 'read-line-count', 'dual-write'),
  {
    name: 'relax-old',
    what: 'item_count nullable, so it can stop being written',
    apply: (ctx) => applyMigration(ctx, RelaxItemCount1764201700003),
    // Rows a line-count writer left without item_count (a release rolled out early, say) are filled first.
    rollback: async (ctx) => {
      await resetBackfill(ctx.db, 'item_count');
      await backfillInto(ctx, 'line_count', 'item_count');
      await revertMigration(ctx, RelaxItemCount1764201700003);
    },
  },
  {
    name: 'stop-old-writes',
    what: `release line-count: ${describeRelease('line-count')}`,
    apply: (ctx) => rollOut(ctx, 'line-count'),
    rollback: async (ctx) => {
      await rollOut(ctx, 'read-line-count');
      await resetBackfill(ctx.db, 'item_count');
      await backfillInto(ctx, 'line_count', 'item_count');
    },
  },
  migrationStep('contract', 'drop item_count', ContractItemCount1764201700004),
];

export const STEP_NAMES = ['start', ...LINE_COUNT_STEPS.map((s) => s.name)];
