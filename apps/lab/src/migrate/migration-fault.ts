// The online-migration experiments' fault: the line_count migration run by the chaos runner while its load runs.
// Setup brings the orders table to the start of the rollout with enough archived orders to matter; the run applies
// the plan (online: every step; naive: the one-transaction migration) while the lock watch samples; what it saw is
// left in the run's facts for the `lock-wait` verdict check.
import { ARCHIVED_CUSTOMER_PATTERN } from '@faultline/reconciliation';
import type { LabLayout } from '../layout/lab-layout';
import type { LocalTarget } from '../local/local-target';
import { labSql } from '../infra/lab-sql';
import { MigrationRun, migrationStatus, runMigration } from './online-migration';

export type MigrationPlan = 'online' | 'naive';

/** What preparing the migration needs of a target: the job's status, a run of jobs, and the archived orders counted. */
export interface MigrationSetupTarget {
  status(): Promise<Record<string, unknown>>;
  /** Runs the jobs in order (each one invocation of the migration job), with no load; `what` names them in errors. */
  run(what: string, jobs: string[][]): Promise<{ ok: boolean; error?: string }>;
  archivedOrders(): Promise<number>;
}

/**
 * Rolls the rollout back to its start (no load is running yet) and tops the archived orders up to `archived`: the
 * same on both targets (locally the job runs on the host, on kind in an orders pod).
 */
export async function prepareMigrationOn(
  target: MigrationSetupTarget,
  archived: number,
  log: (m: string) => void,
): Promise<void> {
  const status = await target.status();
  if (status['step'] !== 'start') {
    log(
      `migration: the orders table is at step ${String(status['step'])}; rolling back to the start first (no load yet)`,
    );
    const steps = status['steps'] as string[];
    const jobs =
      status['step'] === 'naive'
        ? [['naive-rollback']]
        : steps
            .slice(1, steps.indexOf(String(status['step'])) + 1)
            .reverse()
            .map((s) => ['rollback', s]);
    const back = await target.run('rollback-start', jobs);
    if (!back.ok) throw new Error(`could not roll the migration back to its start: ${back.error}`);
  }
  const missing = archived - (await target.archivedOrders());
  if (missing > 0) {
    log(`migration: seeding ${missing} archived orders (the table must be large enough to matter)`);
    const began = Date.now();
    const seeded = await target.run('seed', [['seed', String(missing)]]);
    if (!seeded.ok) throw new Error(`seeding archived orders failed: ${seeded.error}`);
    log(`migration: seeded ${missing} archived orders in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  }
}

/** Orders of the archived customers, the migration's bulk (the count both targets compare with the experiment's). */
export const ARCHIVED_ORDERS_SQL = 'SELECT count(*)::int AS n FROM orders WHERE customer_id LIKE $1';
export const ARCHIVED_ORDERS_PARAMS = [ARCHIVED_CUSTOMER_PATTERN];

export async function prepareMigration(
  layout: LabLayout,
  local: LocalTarget,
  archived: number,
  log: (m: string) => void,
): Promise<void> {
  const quiet = {
    loadRate: 0,
    lockBudgetMs: 600_000,
    lockTimeoutMs: 100,
    batchSize: 5000,
    batchPauseMs: 0,
    onEvent: () => undefined,
  };
  await prepareMigrationOn(
    {
      status: () => migrationStatus(layout, local),
      run: (what, jobs) => runMigration(layout, local, what, jobs, quiet),
      archivedOrders: async () => {
        const sql = labSql(layout);
        try {
          const [row] = await sql.query('orders', ARCHIVED_ORDERS_SQL, ARCHIVED_ORDERS_PARAMS);
          return Number(row?.['n'] ?? 0);
        } finally {
          await sql.close();
        }
      },
    },
    archived,
    log,
  );
}

/** Runs the plan; never throws for a failed step (the run says it failed, with why). */
export async function runMigrationPlan(
  layout: LabLayout,
  local: LocalTarget,
  plan: MigrationPlan,
  options: { lockBudgetMs: number; log: (m: string) => void },
): Promise<MigrationRun> {
  const status = await migrationStatus(layout, local);
  const steps = status['steps'] as string[];
  const jobs =
    plan === 'naive' ? [['naive']] : steps.slice(steps.indexOf(String(status['step'])) + 1).map((s) => ['apply', s]);
  return runMigration(layout, local, plan === 'naive' ? 'naive' : 'all', jobs, {
    loadRate: 0,
    lockBudgetMs: options.lockBudgetMs,
    lockTimeoutMs: 100,
    batchSize: 1000,
    batchPauseMs: 5,
    onEvent: (e) => {
      if (e.event === 'step-done')
        options.log(
          `migration: ${String(e['step'])} ${String(e['direction'])} done in ${(Number(e['ms']) / 1000).toFixed(2)} s`,
        );
      if (e.event === 'error') options.log(`migration: ${String(e['message'])}`);
    },
  });
}

/** After the naive plan the table is in a dead end for the online steps: take it back. */
export async function undoNaive(layout: LabLayout, local: LocalTarget): Promise<void> {
  const status = await migrationStatus(layout, local);
  if (status['step'] !== 'naive') return;
  await runMigration(layout, local, 'naive-rollback', [['naive-rollback']], {
    loadRate: 0,
    lockBudgetMs: 600_000,
    lockTimeoutMs: 100,
    batchSize: 1000,
    batchPauseMs: 0,
    onEvent: () => undefined,
  });
}
