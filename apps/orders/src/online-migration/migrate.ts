// The orders service's migration job for the line_count rollout, the way a cluster would run it (a Job with the
// service's image and DATABASE_URL). `lab migrate` drives it and watches the database meanwhile; run it directly as
//   DATABASE_URL=… node dist/apps/orders/src/online-migration/migrate.js <command>
// Commands: status | apply <step>|next | rollback <step>|last | naive | naive-rollback | seed <orders>
// It prints one JSON object per line (events, then a final {"event":"result"}) and exits 0, or 1 with
// {"event":"error"}, or 64 on bad usage (nothing changed).
import 'reflect-metadata';
import { Client } from 'pg';
import { DataSource, MigrationInterface } from 'typeorm';
import { configureGuard } from './line-count.migrations';
import { JobEvent, runCommand, UsageError } from './line-count.job';

function emit(e: JobEvent): void {
  process.stdout.write(`${JSON.stringify(e)}\n`);
}

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${name} must be an integer in ${min}..${max} (got ${raw})`);
  return n;
}

async function main(argv: string[]): Promise<void> {
  const [command, arg] = argv;
  const url = process.env['DATABASE_URL'];
  if (!command)
    throw new UsageError(
      'usage: migrate.js status | apply <step>|next | rollback <step>|last | naive | naive-rollback | seed <orders>',
    );
  if (!url) throw new UsageError('DATABASE_URL is required (the orders database)');
  configureGuard({
    lockTimeoutMs: intEnv('MIGRATION_LOCK_TIMEOUT_MS', 100, 1, 60_000),
    attempts: intEnv('MIGRATION_LOCK_ATTEMPTS', 50, 1, 1000),
    onRetry: (info) => emit({ event: 'lock-retry', ...info }),
  });
  const db = new Client({ connectionString: url, application_name: 'orders-migrate' });
  await db.connect();
  const sources: DataSource[] = [];
  // SIGTERM/SIGINT: a backfill stops after its current batch (its position is saved); other steps finish.
  const abort = new AbortController();
  process.once('SIGTERM', () => abort.abort());
  process.once('SIGINT', () => abort.abort());
  try {
    await runCommand(
      {
        db,
        emit,
        batchSize: intEnv('MIGRATION_BATCH_SIZE', 1000, 1, 100_000),
        batchPauseMs: intEnv('MIGRATION_BATCH_PAUSE_MS', 5, 0, 10_000),
        seedBatch: intEnv('MIGRATION_SEED_BATCH', 50_000, 1000, 1_000_000),
        signal: abort.signal,
        dataSource: async (migrations: (new () => MigrationInterface)[]) => {
          const ds = new DataSource({
            type: 'postgres',
            url,
            migrations,
            migrationsTableName: 'migrations',
            logging: false,
            applicationName: 'orders-migrate',
            extra: { max: 1 },
          });
          sources.push(ds);
          return ds.initialize();
        },
      },
      command,
      arg,
    );
  } finally {
    for (const ds of sources) if (ds.isInitialized) await ds.destroy().catch(() => undefined);
    await db.end().catch(() => undefined);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    emit({ event: 'error', message: error instanceof Error ? error.message : String(error) });
    process.exit(error instanceof UsageError ? 64 : 1);
  },
);
