// The line_count rollout's migration job, as functions: what migrate.ts runs for `status`, `apply`, `rollback`,
// `naive`, `naive-rollback` and `seed`, and what the tests call directly.
import type { Client } from 'pg';
import { isLineCountRelease, LINE_COUNT_ROLLOUT } from './line-count.release';
import {
  applyMigration,
  LINE_COUNT_STEPS,
  MigrationEvent,
  revertMigration,
  rollOut,
  STEP_NAMES,
  StepContext,
} from './line-count.steps';
import { NaiveLineCount1764201799999 } from './naive.migration';
import { seedArchivedOrders } from './seed';

/** A request the job refuses (wrong step, unknown command): exit 64, nothing changed. */
export class UsageError extends Error {}

export type JobEvent = MigrationEvent | { event: string; [k: string]: unknown };

export interface JobContext extends StepContext {
  db: Client & StepContext['db'];
  emit: (e: JobEvent) => void;
  seedBatch: number;
}

export async function currentStep(db: Client): Promise<{ step: string; release: string }> {
  const { rows } = await db.query<{ step: string; release: string }>(
    'SELECT step, release FROM schema_release WHERE rollout = $1',
    [LINE_COUNT_ROLLOUT],
  );
  if (!rows[0])
    throw new Error(
      'schema_release has no row for the line_count rollout: has the orders service ever started on this database?',
    );
  return rows[0];
}

async function setStep(db: Client, step: string): Promise<void> {
  await db.query('UPDATE schema_release SET step = $2, updated_at = now() WHERE rollout = $1', [
    LINE_COUNT_ROLLOUT,
    step,
  ]);
}

export async function status(db: Client) {
  const { step, release } = await currentStep(db);
  const columns = (
    await db.query<{ name: string; nullable: boolean }>(
      "SELECT column_name AS name, is_nullable = 'YES' AS nullable FROM information_schema.columns WHERE table_name = 'orders' AND column_name IN ('item_count', 'line_count') ORDER BY column_name",
    )
  ).rows;
  const constraints = (
    await db.query<{ name: string; validated: boolean }>(
      "SELECT conname AS name, convalidated AS validated FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'c' ORDER BY conname",
    )
  ).rows;
  const backfills = (
    await db.query(
      'SELECT backfill, last_id, rows_done::bigint::float AS rows_done, finished_at FROM online_migration_progress ORDER BY backfill',
    )
  ).rows;
  const instances = (
    await db.query(
      "SELECT instance, release, seen_at > now() - interval '5 seconds' AS live FROM schema_release_seen WHERE rollout = $1 ORDER BY instance",
      [LINE_COUNT_ROLLOUT],
    )
  ).rows;
  const [{ estimate } = { estimate: 0 }] = (
    await db.query<{ estimate: number }>(
      "SELECT greatest(reltuples, 0)::bigint::float AS estimate FROM pg_class WHERE oid = 'orders'::regclass",
    )
  ).rows;
  const index = STEP_NAMES.indexOf(step);
  return {
    step,
    release,
    next: step === 'naive' ? null : (STEP_NAMES[index + 1] ?? null),
    steps: STEP_NAMES,
    columns,
    constraints,
    backfills,
    instances,
    ordersEstimate: estimate,
  };
}

export async function runCommand(ctx: JobContext, command: string, arg: string | undefined): Promise<void> {
  const { db, emit } = ctx;
  switch (command) {
    case 'status':
      emit({ event: 'result', ...(await status(db)) });
      return;
    case 'apply':
    case 'rollback': {
      const { step: current } = await currentStep(db);
      if (current === 'naive') throw new UsageError('the naive migration is applied: run naive-rollback first');
      const index = STEP_NAMES.indexOf(current);
      const wanted =
        command === 'apply'
          ? arg === 'next' || !arg
            ? STEP_NAMES[index + 1]
            : arg
          : arg === 'last' || !arg
            ? current
            : arg;
      if (!wanted || !STEP_NAMES.includes(wanted) || wanted === 'start')
        throw new UsageError(`unknown or no step "${arg ?? ''}": steps are ${STEP_NAMES.slice(1).join(', ')}`);
      if (command === 'apply' && wanted !== STEP_NAMES[index + 1])
        throw new UsageError(
          `cannot apply ${wanted}: the last completed step is ${current}, so the next one is ${STEP_NAMES[index + 1] ?? 'none (all done)'}`,
        );
      if (command === 'rollback' && wanted !== current)
        throw new UsageError(
          `cannot roll back ${wanted}: only the last completed step (${current}) can be rolled back`,
        );
      const step = LINE_COUNT_STEPS.find((s) => s.name === wanted);
      if (!step) throw new UsageError(`no step named ${wanted}`);
      const after = command === 'apply' ? step.name : (STEP_NAMES[index - 1] ?? 'start');
      const direction = command;
      emit({ event: 'step-start', step: step.name, direction, what: step.what });
      const began = Date.now();
      if (direction === 'apply') await step.apply(ctx);
      else await step.rollback(ctx);
      await setStep(db, after);
      emit({ event: 'step-done', step: step.name, direction, ms: Date.now() - began, now: after });
      emit({ event: 'result', ...(await status(db)) });
      return;
    }
    case 'naive':
    case 'naive-rollback': {
      const { step: current, release } = await currentStep(db);
      const applying = command === 'naive';
      if (applying && current !== 'start')
        throw new UsageError(
          `the naive migration starts from the beginning; this database is at step ${current} (roll back to start first)`,
        );
      if (!applying && current !== 'naive')
        throw new UsageError(`the naive migration is not applied (step ${current})`);
      if (!isLineCountRelease(release)) throw new Error(`unexpected release ${release}`);
      emit({
        event: 'step-start',
        step: 'naive',
        direction: applying ? 'apply' : 'rollback',
        what: 'ADD COLUMN line_count NOT NULL DEFAULT 0 and UPDATE every row, in ONE transaction',
      });
      const began = Date.now();
      if (applying) {
        await applyMigration(ctx, NaiveLineCount1764201799999);
        await rollOut(ctx, 'dual-write');
        const [wrong] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE line_count = 0'))
          .rows;
        emit({ event: 'naive-damage', ordersWithWrongLineCount: wrong?.n ?? 0 });
        await setStep(db, 'naive');
      } else {
        await rollOut(ctx, 'item-count');
        await revertMigration(ctx, NaiveLineCount1764201799999);
        await setStep(db, 'start');
      }
      emit({
        event: 'step-done',
        step: 'naive',
        direction: applying ? 'apply' : 'rollback',
        ms: Date.now() - began,
        now: applying ? 'naive' : 'start',
      });
      emit({ event: 'result', ...(await status(db)) });
      return;
    }
    case 'seed': {
      const count = Number(arg);
      if (!Number.isInteger(count) || count < 1 || count > 20_000_000)
        throw new UsageError(`seed needs a number of orders in 1..20000000 (got ${arg ?? 'nothing'})`);
      const result = await seedArchivedOrders(
        db,
        count,
        ctx.seedBatch,
        (p) => emit({ event: 'seed', ...p }),
        ctx.signal,
      );
      emit({ event: 'result', ...result });
      return;
    }
    default:
      throw new UsageError(
        `unknown command ${command}: status | apply <step>|next | rollback <step>|last | naive | naive-rollback | seed <orders>`,
      );
  }
}
