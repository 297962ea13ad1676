import { Command, Option } from 'commander';
import type { LabLayout } from '../layout/lab-layout';
import type { LocalTarget } from '../local/local-target';
import { LabError } from '../process/lab-error';
import { formatRun, MigrateOptions, MigrationEvent, migrationStatus, runMigration } from './online-migration';

const STEP_HELP = 'expand, dual-write, backfill, constrain, flip-reads, relax-old, stop-old-writes, contract';

/** Human rendering of the job's events: step boundaries, releases, lock retries, throttled backfill progress. */
function eventPrinter(stream: NodeJS.WritableStream = process.stderr): (e: MigrationEvent) => void {
  let lastProgress = 0;
  const started = Date.now();
  const at = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s]`;
  return (e) => {
    switch (e.event) {
      case 'step-start':
        stream.write(`${at()} ${e['direction'] === 'apply' ? '→' : '↶'} ${e['step']}: ${e['what']}\n`);
        break;
      case 'step-done':
        stream.write(
          `${at()} ✓ ${e['step']} ${e['direction'] === 'apply' ? 'applied' : 'rolled back'} in ${(Number(e['ms']) / 1000).toFixed(2)} s (now at ${e['now']})\n`,
        );
        break;
      case 'release':
        stream.write(`${at()}   release ${e['release']}: ${e['meaning']}\n`);
        break;
      case 'release-acknowledged':
        stream.write(
          `${at()}   acknowledged by ${(e['instances'] as string[]).length} orders instance(s) in ${e['waitedMs']} ms\n`,
        );
        break;
      case 'transactions-drained':
        stream.write(`${at()}   transactions begun under the previous release drained in ${e['waitedMs']} ms\n`);
        break;
      case 'lock-retry':
        stream.write(
          `${at()}   lock busy, gave up after the lock timeout (attempt ${e['attempt']}/${e['attempts']}): ${String(e['statement']).slice(0, 80)}\n`,
        );
        break;
      case 'backfill-resume':
        stream.write(`${at()}   resuming the backfill after ${e['lastId']} (${e['rowsDone']} rows already done)\n`);
        break;
      case 'progress':
      case 'seed': {
        const now = Date.now();
        const final = e['phase'] === 'done' || e['inserted'] === e['total'];
        if (!final && now - lastProgress < 1000) break;
        lastProgress = now;
        if (e.event === 'seed')
          stream.write(`${at()}   seeded ${e['inserted']}/${e['total']} orders (${e['rowsPerS']} orders/s)\n`);
        else {
          const pct = Number(e['total']) > 0 ? ((100 * Number(e['scanned'])) / Number(e['total'])).toFixed(1) : '100.0';
          const eta = e['etaS'] === null ? '' : `, about ${Math.ceil(Number(e['etaS']))} s left`;
          stream.write(
            `${at()}   backfill ${e['phase']}: ${e['scanned']}/${e['total']} rows (${pct}%), ${e['rowsDone']} written, ${Math.round(Number(e['rowsPerS']))} rows/s${eta}\n`,
          );
        }
        break;
      }
      case 'naive-damage':
        stream.write(
          `${at()}   orders written with line_count = 0 (the DEFAULT, wrong) before the release switched: ${e['ordersWithWrongLineCount']}\n`,
        );
        break;
      case 'warning':
        stream.write(`${at()}   ! ${e['message']}\n`);
        break;
      case 'error':
        stream.write(`${at()} ✗ ${e['message']}\n`);
        break;
    }
  };
}

function formatStatus(s: MigrationEvent): string {
  const columns = (s['columns'] as { name: string; nullable: boolean }[])
    .map((c) => `${c.name}${c.nullable ? ' (nullable)' : ' NOT NULL'}`)
    .join(', ');
  const constraints = (s['constraints'] as { name: string; validated: boolean }[])
    .map((c) => `${c.name}${c.validated ? '' : ' (NOT VALID)'}`)
    .join(', ');
  const backfills = (s['backfills'] as { backfill: string; rows_done: number; finished_at: string | null }[]).map(
    (b) => `${b.backfill}: ${b.rows_done} rows${b.finished_at ? ', finished' : ', in progress'}`,
  );
  const instances = (s['instances'] as { instance: string; release: string; live: boolean }[])
    .filter((i) => i.live)
    .map((i) => `${i.instance} (${i.release})`);
  return [
    `step      ${s['step']}  (next: ${s['next'] ?? 'none, all done'})`,
    `steps     ${(s['steps'] as string[]).join(' → ')}`,
    `release   ${s['release']}; live orders instances: ${instances.join(', ') || 'none'}`,
    `columns   ${columns}`,
    `checks    ${constraints}`,
    `backfill  ${backfills.join('; ') || 'not started'}`,
    `orders    about ${s['ordersEstimate']} rows`,
  ].join('\n');
}

function intOption(name: string, min: number, max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new LabError('migrate', `${name} must be an integer in ${min}..${max} (got "${value}")`);
    return n;
  };
}

export function registerMigrateCommands(program: Command, layout: LabLayout, local: LocalTarget): void {
  program
    .command('migrate')
    .description(
      `the online migration of orders.item_count → line_count: steps ${STEP_HELP}; exit 0 within budget, 1 over budget, 2 failed`,
    )
    .argument('<what>', `status | next | all | <step> | rollback | naive | naive-rollback | seed`)
    .argument('[arg]', 'rollback: a step, "last" (default) or "start"; seed: how many archived orders')
    .option(
      '--load <orders/s>',
      'place orders through the gateway at this rate while the steps run',
      intOption('--load', 0, 1000),
      0,
    )
    .option(
      '--lock-budget-ms <ms>',
      'the longest lock wait allowed in the orders database',
      intOption('--lock-budget-ms', 1, 600_000),
      200,
    )
    .option(
      '--lock-timeout-ms <ms>',
      "each DDL statement's lock_timeout (it retries after giving up)",
      intOption('--lock-timeout-ms', 1, 60_000),
      100,
    )
    .option('--batch-size <rows>', 'backfill batch size', intOption('--batch-size', 1, 100_000), 1000)
    .option(
      '--batch-pause-ms <ms>',
      'minimum pause between backfill batches (each pause also lasts at least as long as the batch took)',
      intOption('--batch-pause-ms', 0, 10_000),
      5,
    )
    .addOption(new Option('--json', 'print the run (or status) as JSON'))
    .action(
      async (
        what: string,
        arg: string | undefined,
        o: {
          load: number;
          lockBudgetMs: number;
          lockTimeoutMs: number;
          batchSize: number;
          batchPauseMs: number;
          json?: boolean;
        },
      ) => {
        const status = await migrationStatus(layout, local);
        if (what === 'status') {
          process.stdout.write(o.json ? JSON.stringify(status, null, 2) + '\n' : formatStatus(status) + '\n');
          return;
        }
        const steps = status['steps'] as string[];
        const current = String(status['step']);
        let jobs: string[][];
        if (what === 'next') jobs = [['apply', 'next']];
        else if (what === 'all') {
          if (current === 'naive')
            throw new LabError('migrate', 'the naive migration is applied: run `lab migrate naive-rollback` first');
          jobs = steps.slice(steps.indexOf(current) + 1).map((s) => ['apply', s]);
          if (jobs.length === 0)
            throw new LabError('migrate', 'every step is already applied (`lab migrate rollback start` goes back)');
        } else if (what === 'rollback') {
          const target = arg ?? 'last';
          if (target === 'start') {
            if (current === 'naive') jobs = [['naive-rollback']];
            else
              jobs = steps
                .slice(1, steps.indexOf(current) + 1)
                .reverse()
                .map((s) => ['rollback', s]);
            if (jobs.length === 0) throw new LabError('migrate', 'already at start');
          } else jobs = [['rollback', target]];
        } else if (what === 'naive' || what === 'naive-rollback') jobs = [[what]];
        else if (what === 'seed') {
          if (!arg)
            throw new LabError('migrate', 'seed needs a number of archived orders, e.g. `lab migrate seed 1000000`');
          jobs = [['seed', arg]];
        } else if (steps.includes(what) && what !== 'start') jobs = [['apply', what]];
        else
          throw new LabError(
            'migrate',
            `unknown "${what}": status, next, all, rollback [step|last|start], naive, naive-rollback, seed <n>, or a step: ${STEP_HELP}`,
          );

        const options: MigrateOptions = {
          loadRate: o.load,
          lockBudgetMs: o.lockBudgetMs,
          lockTimeoutMs: o.lockTimeoutMs,
          batchSize: o.batchSize,
          batchPauseMs: o.batchPauseMs,
          onEvent: o.json ? () => undefined : eventPrinter(),
        };
        const run = await runMigration(
          layout,
          local,
          what === 'rollback' ? `rollback-${arg ?? 'last'}` : what,
          jobs,
          options,
        );
        process.stdout.write(o.json ? JSON.stringify(run, null, 2) + '\n' : formatRun(run) + '\n');
        process.exitCode = run.verdict === 'FAILED' ? 2 : run.verdict === 'OVER BUDGET' ? 1 : 0;
      },
    );
}
