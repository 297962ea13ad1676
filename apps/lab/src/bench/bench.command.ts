// `lab bench`: the bench suite (bench-suite.ts) from the lab's CLI. Its options are the suite's own, `--name=value`,
// checked there: an unknown one is refused with the list of known ones.
import type { Command } from 'commander';
import { BENCH_AREAS, runBench } from './bench-suite';

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('measure every performance figure as a ratio to a baseline of the same run (bench/README.md)')
    .argument(
      '[settings...]',
      `--quick, --smoke, --only=<${BENCH_AREAS.join(',')}>, --runs=N, --max-spread=F, --seconds=S, --fixed-seconds=S, --orders-fixed-seconds=S, --rate=R, --concurrency=C, --keep`,
    )
    .allowUnknownOption(true)
    .action(async (settings: string[]) => {
      // The suite's clients may outlive it by a moment (a Kafka reconnect); the code is the suite's answer.
      process.exit(await runBench(settings));
    });
}
