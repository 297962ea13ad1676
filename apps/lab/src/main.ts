// The `lab` CLI: how users drive Faultline. Run it as `npx lab <command>` from the repository root after setup.
import { Command, Option } from 'commander';
import { logsCommand } from './commands/logs.command';
import { formatStatus } from './commands/status.command';
import { tokenCommand } from './commands/token.command';
import { resolveLayout } from './layout/lab-layout';
import { LocalTarget } from './local/local-target';
import { LabError } from './process/lab-error';
import { consoleProgress } from './process/progress';

// kafkajs 2.2.4 trips Node 24's TimeoutNegativeWarning once per process (a known, harmless kafkajs issue); keep
// every other warning.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning') process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

const targetOption = () => new Option('--target <target>', 'where the lab runs').choices(['local', 'kind']).default('local');

function localOnly(target: string): void {
  if (target !== 'local') {
    throw new LabError('kind', 'the kind target is not built yet (issue #6); use --target local');
  }
}

async function main(argv: string[]): Promise<void> {
  const layout = resolveLayout();
  const local = new LocalTarget(layout);
  const program = new Command('lab').description('Faultline: break dependencies on purpose, watch data stay correct.').showHelpAfterError();

  program
    .command('up')
    .description('start the infrastructure and every service, and return once all are ready')
    .addOption(targetOption())
    .action(async ({ target }) => {
      localOnly(target);
      const progress = consoleProgress();
      await local.up(progress);
      const gateway = local.services().find((s) => s.name === 'gateway');
      const statuses = await local.status();
      const prometheus = statuses.find((c) => c.name === 'prometheus');
      process.stdout.write(
        [
          '',
          `Faultline is up (local target, state in ${layout.stateDir}).`,
          `  gateway      ${gateway?.url}   (health: ${gateway?.url}/healthz, metrics: ${gateway?.url}/metrics)`,
          `  prometheus   ${prometheus?.state === 'running' ? `http://127.0.0.1:${layout.ports.prometheus}` : `not running: ${prometheus?.detail ?? 'not installed'}`}`,
          '  next:        npx lab status   |   npx lab token --sub alice --role customer --tier free   |   npx lab down',
          '',
        ].join('\n'),
      );
    });

  program
    .command('down')
    .description('stop every service and every piece of infrastructure this lab started')
    .addOption(targetOption())
    .action(async ({ target }) => {
      localOnly(target);
      await local.down(consoleProgress());
      process.stdout.write('Faultline is down.\n');
    });

  program
    .command('status')
    .description('state, pid, port and health of every component')
    .addOption(targetOption())
    .option('--json', 'print JSON')
    .action(async ({ target, json }) => {
      localOnly(target);
      const components = await local.status();
      process.stdout.write(json ? JSON.stringify({ target, stateDir: layout.stateDir, components }, null, 2) + '\n' : formatStatus(components) + '\n');
    });

  program
    .command('logs')
    .description('print the log of one component')
    .argument('<name>', 'a component, as `lab status` names it')
    .option('-n, --lines <n>', 'how many lines', '50')
    .option('-f, --follow', 'keep printing new lines')
    .action(async (name, { lines, follow }) => {
      const known = [...local.infra().map((c) => c.name), 'supervisor', ...local.services().map((s) => s.name)];
      await logsCommand(layout, name, known, Number(lines) || 50, Boolean(follow));
    });

  program
    .command('token')
    .description('print a JWT the running lab accepts')
    .requiredOption('--sub <id>', 'the user id (token subject)')
    .addOption(new Option('--role <role>', 'customer or admin').choices(['customer', 'admin']).default('customer'))
    .addOption(new Option('--tier <tier>', 'rate-limit tier').choices(['free', 'paid']).default('free'))
    .option('--name <name>', 'display name recorded for the customer')
    .option('--ttl <seconds>', 'lifetime in seconds', '86400')
    .action(async (options) => {
      process.stdout.write((await tokenCommand(layout, options)) + '\n');
    });

  await program.parseAsync(argv);
}

main(process.argv).catch((error: unknown) => {
  if (error instanceof LabError) {
    process.stderr.write(`lab: ${error.describe()}\n`);
  } else {
    process.stderr.write(`lab: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
  }
  process.exit(1);
});
