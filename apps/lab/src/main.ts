// The `lab` CLI: how users drive Faultline. Run it as `npx lab <command>` from the repository root after setup.
import { Command, Option } from 'commander';
import { registerBenchCommand } from './bench/bench.command';
import { registerChaosCommands } from './chaos/chaos.command';
import { dlqListCommand, dlqReplayCommand } from './commands/dlq.command';
import { logsCommand } from './commands/logs.command';
import { formatStatus } from './commands/status.command';
import { retireKeys, revokeLabToken, rotateKeys, type KeysOutcome } from './access/signing-keys';
import { mintToken } from './access/access-tokens';
import { traceCommand } from './commands/trace.command';
import { KIND_URLS } from './kind/kind-plan';
import { KindTarget } from './kind/kind-target';
import { resolveLayout } from './layout/lab-layout';
import { LocalTarget } from './local/local-target';
import { registerMigrateCommands } from './migrate/migrate.command';
import { parseServiceOverrides } from './topology/lab-services';
import { LabError } from './process/lab-error';
import { consoleProgress } from './process/progress';

// kafkajs 2.2.4 trips Node 24's TimeoutNegativeWarning once per process (a known, harmless kafkajs issue); keep
// every other warning.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning') process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

const targetOption = () =>
  new Option('--target <target>', 'where the lab runs').choices(['local', 'kind']).default('local');

async function main(argv: string[]): Promise<void> {
  const layout = resolveLayout();
  const local = new LocalTarget(layout);
  const kind = new KindTarget(layout);
  const program = new Command('lab')
    .description('Faultline: break dependencies on purpose, watch data stay correct.')
    .showHelpAfterError();

  program
    .command('up')
    .description('start the infrastructure and every service, and return once all are ready')
    .addOption(targetOption())
    .option(
      '--set <service.VAR=value>',
      'override one variable of one service (repeatable), e.g. gateway.RECS_FALLBACK=naive',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .action(async ({ target, set }) => {
      const progress = consoleProgress();
      if (target === 'kind') {
        await kind.up(progress);
        process.stdout.write(
          [
            '',
            'Faultline is up (kind cluster "faultline").',
            ...Object.entries(KIND_URLS).map(([name, url]) => `  ${name.padEnd(12)} ${url}`),
            '  next:        npx lab status --target kind   |   npx lab token --target kind --sub alice   |   npx lab down --target kind',
            '',
          ].join('\n'),
        );
        return;
      }
      let overrides;
      try {
        overrides = parseServiceOverrides(set);
      } catch (error) {
        throw new LabError('lab', (error as Error).message);
      }
      await local.up(progress, overrides);
      const gateway = local.services().find((s) => s.name === 'gateway');
      const statuses = await local.status();
      const prometheus = statuses.find((c) => c.name === 'prometheus');
      process.stdout.write(
        [
          '',
          `Faultline is up (local target, state in ${layout.stateDir}).`,
          `  gateway      ${gateway?.url}   (health: ${gateway?.url}/healthz, metrics: ${gateway?.url}/metrics, API docs: ${gateway?.url}/docs)`,
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
      if (target === 'kind') {
        await kind.down(consoleProgress());
        process.stdout.write('Faultline is down (kind cluster deleted).\n');
        return;
      }
      await local.down(consoleProgress());
      process.stdout.write('Faultline is down.\n');
    });

  program
    .command('status')
    .description('state, pid, port and health of every component')
    .addOption(targetOption())
    .option('--json', 'print JSON')
    .action(async ({ target, json }) => {
      const components = target === 'kind' ? await kind.status() : await local.status();
      process.stdout.write(
        json
          ? JSON.stringify({ target, stateDir: layout.stateDir, components }, null, 2) + '\n'
          : formatStatus(components) + '\n',
      );
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
    .addOption(targetOption())
    .action(async (options) => {
      process.stdout.write(
        (await mintToken(options.target === 'kind' ? kind.secretsLayout() : layout, options)) + '\n',
      );
    });

  program
    .command('revoke')
    .description('refuse one token from now on (the gateway honours it within a second), until it would have expired')
    .argument('<token>', 'the JWT, as `lab token` printed it')
    .action(async (token: string) => {
      const { jti, until } = await revokeLabToken(layout, token);
      process.stdout.write(
        `revoked token ${jti} until it expires (${until.toISOString()}); the gateway refuses it within REVOCATION_MAX_AGE_MS (1 s)\n`,
      );
    });

  const keys = program
    .command('keys')
    .description("the lab's signing keys: rotate to a new key with an overlap, then retire the old one");
  const keysReport = (outcome: KeysOutcome) =>
    `  signing with ${outcome.signing}\n  accepted:    ${outcome.accepted.join(', ')}\n  gateway:     ${outcome.gateway === 'not running' ? 'not running (it reads the keys when it starts)' : 'took the keys'}\n`;
  keys
    .command('rotate')
    .description('sign with a new key; tokens of the previous key stay accepted until `lab keys retire`')
    .action(async () => {
      const outcome = await rotateKeys(layout);
      process.stdout.write(
        `rotated: new tokens are signed with the new key, the previous key's tokens are still accepted\n${keysReport(outcome)}  next:        npx lab token --sub alice   |   npx lab keys retire (ends the overlap)\n`,
      );
    });
  keys
    .command('retire')
    .description('end the overlap: refuse every token of the previous key from now on')
    .action(async () => {
      const outcome = await retireKeys(layout);
      process.stdout.write(
        `retired ${outcome.retired.join(', ')}: its tokens are refused from now on\n${keysReport(outcome)}`,
      );
    });

  program
    .command('env')
    .description('print the environment the lab gives a service (to run a second copy of it by hand, or from a test)')
    .argument('<name>', 'a service, as `lab status` names it')
    .option('--json', 'print JSON')
    .action(async (name, { json }) => {
      const service = local.services().find((s) => s.name === name);
      if (!service)
        throw new LabError(
          'env',
          `unknown service "${name}"; known: ${local
            .services()
            .map((s) => s.name)
            .join(', ')}`,
        );
      process.stdout.write(
        json
          ? JSON.stringify(service.env, null, 2) + '\n'
          : Object.entries(service.env)
              .map(([k, v]) => `${k}=${v}`)
              .join('\n') + '\n',
      );
    });

  const infra = program
    .command('infra')
    .description('stop or start one piece of the local infrastructure (what chaos experiments do)');
  const infraComponent = async (name: string) => {
    const component = local.infra().find((c) => c.name === name);
    if (!component)
      throw new LabError(
        'infra',
        `unknown component "${name}"; known: ${local
          .infra()
          .map((c) => c.name)
          .join(', ')}`,
      );
    return component;
  };
  infra
    .command('stop')
    .argument('<name>', 'postgres, redis, kafka or prometheus')
    .description('stop it (services stay up and see the outage)')
    .action(async (name) => {
      await (await infraComponent(name)).stop();
      process.stdout.write(`${name} stopped\n`);
    });
  infra
    .command('start')
    .argument('<name>', 'postgres, redis, kafka or prometheus')
    .description('start it again and wait until it is ready')
    .action(async (name) => {
      await (await infraComponent(name)).start(consoleProgress());
    });

  const dlq = program.command('dlq').description('dead-lettered messages: list them, replay a fixed one');
  dlq
    .command('list')
    .description('every message on the dead-letter topics, with its error')
    .option('--json', 'print JSON')
    .action(async ({ json }) => {
      process.stdout.write((await dlqListCommand(layout, Boolean(json))) + '\n');
    });
  dlq
    .command('replay')
    .description('republish one message to its original topic')
    .argument('<id>', 'the id `lab dlq list` shows: <dlqTopic>:<partition>:<offset>')
    .option('--payload <file>', 'a JSON file with the corrected payload')
    .action(async (id, { payload }) => {
      process.stdout.write((await dlqReplayCommand(layout, id, payload)) + '\n');
    });

  program
    .command('trace')
    .description("print one order's trace as a span tree (local: the lab's trace store; kind: Jaeger)")
    .argument('<order-id>', 'the order id POST /v1/orders answered')
    .addOption(targetOption())
    .option('--jaeger <url>', 'query this Jaeger instead (default on kind: the UI at http://localhost:16686)')
    .option('--json', 'print the spans as JSON')
    .action(async (orderId, { target, jaeger, json }) => {
      const jaegerUrl = jaeger ?? (target === 'kind' ? KIND_URLS.jaeger : undefined);
      process.stdout.write((await traceCommand(layout, orderId, { target, json: Boolean(json), jaegerUrl })) + '\n');
    });

  registerChaosCommands(program, layout);
  registerMigrateCommands(program, layout, local);
  registerBenchCommand(program);

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
