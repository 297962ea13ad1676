// The schema side of the line_count rollout (see line-count.release.ts): TypeORM migrations applied one at a time by
// `lab migrate`, never all at once at start. Each runs OUTSIDE a transaction (`transaction = false`): a transaction
// would keep the ACCESS EXCLUSIVE lock of its first statement until its last, which is exactly the outage an online
// migration avoids. So every statement is guarded (short lock_timeout, retried) and idempotent: a step killed half way
// is simply run again.
import { MigrationInterface, QueryRunner } from 'typeorm';
import { DEFAULT_GUARD, GuardOptions, runGuarded } from '@faultline/database';

let guard: Partial<GuardOptions> = {};

/** Lock timeout, attempts and retry reporting for every guarded statement of these migrations. */
export function configureGuard(options: Partial<GuardOptions>): void {
  guard = options;
}

export function guardSettings(): GuardOptions {
  return { ...DEFAULT_GUARD, ...guard };
}

function ddl(q: QueryRunner, statement: string): Promise<void> {
  return runGuarded((sql) => q.query(sql), statement, guard);
}

async function constraint(q: QueryRunner, name: string): Promise<{ validated: boolean } | undefined> {
  const [row] = (await q.query(
    "SELECT convalidated FROM pg_constraint WHERE conrelid = 'orders'::regclass AND conname = $1",
    [name],
  )) as { convalidated: boolean }[];
  return row ? { validated: row.convalidated } : undefined;
}

/**
 * SET NOT NULL without a table scan under ACCESS EXCLUSIVE: first a CHECK (col IS NOT NULL) added NOT VALID (instant),
 * validated under SHARE UPDATE EXCLUSIVE (scans, but writes go on), then SET NOT NULL, which PostgreSQL ≥ 12 proves
 * from the validated CHECK without scanning; then the CHECK is redundant and dropped.
 */
async function setNotNullOnline(q: QueryRunner, column: string): Promise<void> {
  const check = `orders_${column}_present`;
  if (!(await constraint(q, check)))
    await ddl(q, `ALTER TABLE orders ADD CONSTRAINT ${check} CHECK (${column} IS NOT NULL) NOT VALID`);
  try {
    await ddl(q, `ALTER TABLE orders VALIDATE CONSTRAINT ${check}`);
  } catch (error) {
    if ((error as { code?: string }).code !== '23514') throw error;
    const [missing] = (await q.query(`SELECT count(*)::int AS n FROM orders WHERE ${column} IS NULL`)) as {
      n: number;
    }[];
    throw new Error(
      `${missing?.n ?? 'some'} orders still have no ${column}: backfill it first (and roll out a release that writes it)`,
    );
  }
  await ddl(q, `ALTER TABLE orders ALTER COLUMN ${column} SET NOT NULL`);
  await ddl(q, `ALTER TABLE orders DROP CONSTRAINT IF EXISTS ${check}`);
}

/** expand: the new column, nullable and without a default: a catalog change, no rewrite, no scan. */
export class ExpandLineCount1764201700001 implements MigrationInterface {
  name = 'ExpandLineCount1764201700001';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await ddl(q, 'ALTER TABLE orders ADD COLUMN IF NOT EXISTS line_count int');
  }

  async down(q: QueryRunner): Promise<void> {
    await ddl(q, 'ALTER TABLE orders DROP COLUMN IF EXISTS line_count');
  }
}

/** constrain: line_count becomes NOT NULL and 1..20 like item_count, without a long lock (after the backfill). */
export class ConstrainLineCount1764201700002 implements MigrationInterface {
  name = 'ConstrainLineCount1764201700002';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    const range = await constraint(q, 'orders_line_count_range');
    if (!range)
      await ddl(
        q,
        'ALTER TABLE orders ADD CONSTRAINT orders_line_count_range CHECK (line_count BETWEEN 1 AND 20) NOT VALID',
      );
    if (!range?.validated) await ddl(q, 'ALTER TABLE orders VALIDATE CONSTRAINT orders_line_count_range');
    await setNotNullOnline(q, 'line_count');
  }

  async down(q: QueryRunner): Promise<void> {
    await ddl(q, 'ALTER TABLE orders ALTER COLUMN line_count DROP NOT NULL');
    await ddl(q, 'ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_line_count_range');
    await ddl(q, 'ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_line_count_present');
  }
}

/** relax-old: item_count may be NULL, so a release that no longer writes it can run. */
export class RelaxItemCount1764201700003 implements MigrationInterface {
  name = 'RelaxItemCount1764201700003';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await ddl(q, 'ALTER TABLE orders ALTER COLUMN item_count DROP NOT NULL');
  }

  /** Needs item_count filled again (the rollback of stop-old-writes backfills it from line_count). */
  async down(q: QueryRunner): Promise<void> {
    if ((await constraint(q, 'orders_item_count_check'))?.validated === false)
      await ddl(q, 'ALTER TABLE orders VALIDATE CONSTRAINT orders_item_count_check');
    await setNotNullOnline(q, 'item_count');
  }
}

/** contract: the old column goes (a catalog change: the space is reclaimed as rows are rewritten). */
export class ContractItemCount1764201700004 implements MigrationInterface {
  name = 'ContractItemCount1764201700004';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await ddl(q, 'ALTER TABLE orders DROP COLUMN IF EXISTS item_count');
  }

  /** The column comes back empty and nullable; the rollback of stop-old-writes fills it. */
  async down(q: QueryRunner): Promise<void> {
    await ddl(q, 'ALTER TABLE orders ADD COLUMN IF NOT EXISTS item_count int');
    if (!(await constraint(q, 'orders_item_count_check')))
      await ddl(
        q,
        'ALTER TABLE orders ADD CONSTRAINT orders_item_count_check CHECK (item_count BETWEEN 1 AND 20) NOT VALID',
      );
  }
}
