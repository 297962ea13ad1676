// The CLI side of the chaos lab: `lab chaos list|run`, `lab load`, `lab reconcile`, `lab report`.
import { Command, Option } from 'commander';
import type { LabLayout } from '../layout/lab-layout';
import { LabError } from '../process/lab-error';
import { formatCatalog, loadCatalog } from './catalog';
import { LOAD_MIXES } from '@faultline/load';
import { runLoad, summarize } from '@faultline/load';
import { formatReconcile, formatRepair, reconcile, repair, repairableIds } from './reconcile';
import { runCourse, summaryMarkdown } from './course';
import { listReports, verdictLabel } from './report';
import { runKindExperiment } from './kind/kind-runner';
import { EXIT_CODES, runExperiment } from './runner';
import { labTokenSigner } from '../access/access-tokens';

export function registerChaosCommands(program: Command, layout: LabLayout): void {
  const chaos = program
    .command('chaos')
    .description('chaos experiments with verdicts (chaos/experiments/<id>/experiment.yaml)');
  chaos
    .command('list')
    .description('the experiment catalog')
    .option('--json', 'print JSON')
    .action(({ json }) => {
      const catalog = loadCatalog(layout.root);
      process.stdout.write(
        json
          ? JSON.stringify(
              catalog.map((e) => e.experiment),
              null,
              2,
            ) + '\n'
          : formatCatalog(catalog) + '\n',
      );
    });
  chaos
    .command('run')
    .description(
      'steady state, load, fault, heal, convergence, verdict on data, report; exit 0 PASS, 1 FAIL, 2 ABORTED, 3 INCONCLUSIVE, 4 DEVIATION',
    )
    .argument('[id]', 'an experiment id (lab chaos list)')
    .option(
      '--all',
      'the whole catalog in course order, then one summary report; exit 0 when every experiment met its expectation',
    )
    .option('--junit <file>', 'with --all: the verdicts as JUnit XML')
    .addOption(new Option('--target <target>', 'where the lab runs').choices(['local', 'kind']).default('local'))
    .option('--quick', 'short load and fault windows (CI), same checks')
    .option('--json', 'print the run journal as JSON')
    .action(async (id: string | undefined, { all, junit, target, quick, json }) => {
      if (Boolean(all) === Boolean(id))
        throw new LabError('chaos', 'name one experiment, or --all for the whole catalog (`lab chaos list`)');
      if (junit && !all) throw new LabError('chaos', '--junit goes with --all');
      const runOptions = { quick: Boolean(quick), log: (m: string) => process.stderr.write(`[chaos] ${m}\n`) };
      const runOne = (experiment: string) =>
        target === 'kind'
          ? runKindExperiment(layout, experiment, runOptions)
          : runExperiment(layout, experiment, runOptions);
      if (all) {
        const course = await runCourse(layout, runOne, { junit, log: runOptions.log });
        if (json) process.stdout.write(JSON.stringify(course.journals, null, 2) + '\n');
        else
          process.stdout.write(
            `\n${summaryMarkdown(course.journals, course.dir)}\nsummary: ${course.dir}/summary.html\n`,
          );
        process.exitCode = course.ok ? 0 : 1;
        return;
      }
      const journal = await runOne(id as string);
      if (json) process.stdout.write(JSON.stringify(journal, null, 2) + '\n');
      else {
        process.stdout.write(
          [
            '',
            `${journal.id}: ${verdictLabel(journal)} in ${journal.durationS} s — ${journal.reason}`,
            ...journal.checks.map((c) => `  ${c.inconclusive ? '?' : c.ok ? '✓' : '✗'} ${c.check}: ${c.detail}`),
            `  report: ${journal.reportDir}/report.html`,
            '',
          ].join('\n'),
        );
      }
      process.exitCode = EXIT_CODES[journal.verdict];
    });

  program
    .command('load')
    .description(
      'open-model load on the gateway (rate-controlled, many customers, idempotency keys), with per-request timings',
    )
    .addOption(new Option('--mix <mix>', 'what to send').choices([...LOAD_MIXES]).default('orders'))
    .option('--rate <n>', 'requests per second', '20')
    .option('--duration <s>', 'seconds', '30')
    .option('--customers <n>', 'distinct customers (paid tokens)', '50')
    .option('--url <url>', 'gateway base URL (default: the local lab gateway)')
    .option('--json', 'print every request record as JSON')
    .action(async (o) => {
      const result = await runLoad(labTokenSigner(layout), {
        baseUrl: o.url ?? `http://127.0.0.1:${layout.ports.gateway}`,
        mix: o.mix,
        rate: Number(o.rate),
        durationS: Number(o.duration),
        customers: Number(o.customers),
        onProgress: (p) =>
          process.stderr.write(
            `load +${p.elapsedS}s: ${p.sent} sent, ${p.done} answered, ${p.errors} errors, ${p.inFlight} in flight\n`,
          ),
      });
      if (o.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else process.stdout.write(JSON.stringify(summarize(result.records), null, 2) + '\n');
    });

  program
    .command('reconcile')
    .description(
      'orders by state vs outbox vs inbox rows vs reservations vs notifications, with the ids that differ; exit 1 on drift',
    )
    .option('--grace <s>', 'how long an order may stay PENDING before it counts as drift', '60')
    .option(
      '--outbox-retention-hours <h>',
      "the orders service's OUTBOX_RETENTION_HOURS: older orders' events may be pruned",
      '24',
    )
    .option(
      '--repair',
      'republish, through the orders outbox, the event of every order stuck PENDING or never notified; exit 0 once done',
    )
    .option('--json', 'print JSON')
    .action(async ({ grace, outboxRetentionHours, repair: mend, json }) => {
      let report;
      try {
        report = await reconcile(layout, { graceS: Number(grace), outboxRetentionHours: Number(outboxRetentionHours) });
      } catch (error) {
        throw new LabError('reconcile', `${(error as Error).message}; is the lab up?`);
      }
      const repaired = mend ? await repair(layout, repairableIds(report)) : undefined;
      if (json) process.stdout.write(JSON.stringify(repaired ? { ...report, repaired } : report, null, 2) + '\n');
      else process.stdout.write(formatReconcile(report) + (repaired ? `\n\n${formatRepair(repaired)}` : '') + '\n');
      if (report.drift.length > 0 && !repaired) process.exitCode = 1;
    });

  program
    .command('report')
    .description('the chaos run reports under <state>/reports (newest last)')
    .option('--json', 'print JSON')
    .action(({ json }) => {
      const reports = listReports(layout);
      if (json) process.stdout.write(JSON.stringify(reports, null, 2) + '\n');
      else if (reports.length === 0) process.stdout.write('No reports yet: run `lab chaos run <id>`.\n');
      else
        process.stdout.write(
          reports
            .map(
              (r) =>
                `${r.startedAt}  ${r.id.padEnd(20)} ${r.verdict.padEnd(18)} ${String(r.durationS).padStart(6)} s  ${r.dir}/report.html`,
            )
            .join('\n') + '\n',
        );
    });
}
