// `lab bench` (`npm run bench` builds first, then runs it): every performance claim of the lab as a ratio to a baseline
// measured in the same run, on the same machine, repeated and reduced to medians with their spread; refuses to report
// when the machine was too noisy.
//
//   lab bench                              full suite: 5 runs per area, results in bench/results/<date>.{json,md}
//   lab bench --quick                      every figure, 3 runs on shorter phases, same noise rule, about 16 minutes:
//                                          bench/results/<date>-quick.{json,md}
//   lab bench --smoke                      (or BENCH_SMOKE=1) tiny durations, 1 run, no noise rule, results under the
//                                          bench lab's state folder: proves the suite still works (the e2e test)
//   lab bench --only=orders,relay          some areas only (results under the state folder too)
//   options: --runs=N --max-spread=0.2 (BENCH_MAX_SPREAD) --seconds=S (capacity phases) --fixed-seconds=S (relay
//            lag at the fixed rate) --orders-fixed-seconds=S (orders latency at the fixed rate) --rate=R
//            --concurrency=C --keep (lab stays up)
//
// Exit codes: 0 reported, 1 failed, 2 refused (too noisy; the raw runs are written as <date>.refused.json).
// On its own lab (.lab/bench, ports +3600; LAB_STATE_DIR / LAB_PORT_OFFSET move it), started and stopped here unless
// it was already running. See bench/README.md for what each figure and its baseline are.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { LabError } from '../process/lab-error';
import { consoleProgress } from '../process/progress';
import { BenchLab, benchLayout } from './bench-lab';
import { assertLabNode, cpuTimes, describeDrift, measureCpuDrift, stolenSince } from './bench-machine';
import { BenchResult, figureLine, formatNumber, machineInfo, renderMarkdown } from './bench-report';
import { aggregateFigures, BenchSample, noisyFigures } from './bench-stats';
import { cpuScenario } from './scenarios/cpu.scenario';
import { listOrdersScenario } from './scenarios/list-orders.scenario';
import { memoryScenario } from './scenarios/memory.scenario';
import { ordersScenario } from './scenarios/orders.scenario';
import { rateLimitScenario } from './scenarios/rate-limit.scenario';
import { recommendationsScenario } from './scenarios/recommendations.scenario';
import { relayScenario } from './scenarios/relay.scenario';
import type { BenchSettings, Scenario, ScenarioContext } from './scenarios/scenario';

/** Every area, in the order they run; `memory` last, since it restarts every service. */
const SCENARIOS: Record<string, (ctx: ScenarioContext) => Scenario> = {
  orders: ordersScenario,
  relay: relayScenario,
  recommendations: recommendationsScenario,
  'list-orders': listOrdersScenario,
  'rate-limit': rateLimitScenario,
  cpu: cpuScenario,
  memory: memoryScenario,
};
export const BENCH_AREAS = Object.keys(SCENARIOS);

/** A figure whose same-run ratios disagree by more than this (interquartile range / median) refuses the report. */
const DEFAULT_MAX_SPREAD = 0.2;

/**
 * The full profile takes well over an hour on 2 cores. Capacity phases last 20 s a side; the latency phases at the
 * fixed rate last 150 s for the relay lag and 300 s for orders (3,000 and 6,000 samples a side at 20/s, so a p99 is the
 * 30th or 60th slowest request, not one unlucky one); percentiles of the other areas come from 2,000 to 30,000 samples
 * per run. The fixed rate is about a third of what the gateway accepts at saturation here: at half of it, latency is
 * mostly queueing, and queueing multiplies the machine's own drift (see bench/README.md).
 */
const FULL: BenchSettings = {
  smoke: false,
  runs: 5,
  phaseMs: 20_000,
  fixedMs: 150_000,
  ordersFixedMs: 300_000,
  loadMs: 75_000,
  idleMs: 60_000,
  rate: 20,
  concurrency: 16,
  relayBacklog: 20_000,
  rawProducerMessages: 40_000,
  requests: 200,
  healthyRequests: 12_000,
  pages: 4000,
  redisOps: 30_000,
};
/**
 * `--quick`: every figure of the full profile, with its same-run baseline and the same noise rule, in about 16 minutes
 * on 2 cores (980 s on 2026-12-04): 3 runs after the warm-up, capacity phases of 8 s, latency phases of 30 s at the
 * fixed rate (600 samples a side, so a p99 is the 6th slowest request: a latency figure is refused more often than in
 * the full run), the cpu area's idle and load 20 s each. Its results go to bench/results/<date>-quick.{json,md}.
 */
const QUICK: BenchSettings = {
  smoke: false,
  quick: true,
  runs: 3,
  phaseMs: 8000,
  fixedMs: 30_000,
  ordersFixedMs: 30_000,
  loadMs: 20_000,
  idleMs: 20_000,
  rate: 20,
  concurrency: 16,
  relayBacklog: 5000,
  rawProducerMessages: 10_000,
  requests: 100,
  healthyRequests: 2000,
  pages: 500,
  redisOps: 5000,
};
const SMOKE: BenchSettings = {
  smoke: true,
  runs: 1,
  phaseMs: 1000,
  fixedMs: 1000,
  ordersFixedMs: 1000,
  loadMs: 1000,
  idleMs: 1000,
  rate: 20,
  concurrency: 4,
  relayBacklog: 100,
  rawProducerMessages: 500,
  requests: 30,
  healthyRequests: 30,
  pages: 20,
  redisOps: 200,
};

function parseArgs(argv: string[], env: NodeJS.ProcessEnv) {
  const args = new Map(argv.map((a) => a.replace(/^--/, '').split('=') as [string, string | undefined]));
  const number = (name: string, fallback: number) => {
    const raw = args.get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0)
      throw new LabError('bench', `--${name} must be a positive number, got "${raw}"`);
    return value;
  };
  const smoke = args.has('smoke') || env['BENCH_SMOKE'] === '1';
  const quick = args.has('quick');
  if (smoke && quick) throw new LabError('bench', '--smoke and --quick are two different profiles: choose one');
  const base = smoke ? SMOKE : quick ? QUICK : FULL;
  const settings: BenchSettings = {
    ...base,
    runs: Math.round(number('runs', Number(env['BENCH_RUNS'] || base.runs))),
    phaseMs: number('seconds', base.phaseMs / 1000) * 1000,
    fixedMs: number('fixed-seconds', base.fixedMs / 1000) * 1000,
    ordersFixedMs: number('orders-fixed-seconds', base.ordersFixedMs / 1000) * 1000,
    rate: number('rate', base.rate),
    concurrency: Math.round(number('concurrency', base.concurrency)),
  };
  const only = args.get('only')?.split(',').filter(Boolean);
  const unknown = only?.filter((a) => !BENCH_AREAS.includes(a)) ?? [];
  if (unknown.length > 0)
    throw new LabError('bench', `--only: unknown area(s) ${unknown.join(', ')}; known: ${BENCH_AREAS.join(', ')}`);
  for (const name of args.keys()) {
    if (
      ![
        'smoke',
        'quick',
        'runs',
        'seconds',
        'fixed-seconds',
        'orders-fixed-seconds',
        'rate',
        'concurrency',
        'only',
        'max-spread',
        'keep',
      ].includes(name)
    )
      throw new LabError('bench', `unknown option --${name}`);
  }
  return {
    settings,
    only,
    keep: args.has('keep'),
    maxSpread: number('max-spread', Number(env['BENCH_MAX_SPREAD'] || DEFAULT_MAX_SPREAD)),
  };
}

/** Runs the suite as `argv` (the options after `lab bench`) asks; resolves to the exit code. */
export async function runBench(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { settings, only, keep, maxSpread } = parseArgs([...argv], env);
  assertLabNode();
  const progress = consoleProgress();
  const layout = benchLayout();
  const lab = new BenchLab(layout, progress);
  const startedAt = new Date();
  const machine = machineInfo(layout.root);
  const cpuAtStart = cpuTimes();
  if (!settings.smoke) {
    progress.step('bench', 'timing a fixed CPU loop: how much this machine drifts by itself');
    machine.cpuDrift = measureCpuDrift();
    progress.done('bench', describeDrift(machine.cpuDrift));
  }
  const samples: BenchSample[] = [];
  const stopOnSignal = (signal: NodeJS.Signals) => {
    progress.step('bench', `${signal}: cleaning up`);
    // The run in flight keeps its clients (Kafka, Postgres) until the exit; as the lab goes down under them they fail,
    // and those failures must not end the process before the lab is down.
    process.on('unhandledRejection', () => undefined);
    process.on('uncaughtException', () => undefined);
    void lab.close(keep).finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const wanted = new Set(only ?? BENCH_AREAS);
  try {
    await lab.up();
    // Smoke only: start the second gateway (two cold Node starts) while the first areas run; its numbers are not
    // judged, and this keeps the smoke test short. The full suite starts it only when its areas come, on a quiet lab.
    if (settings.smoke && wanted.has('recommendations')) void lab.secondGateway().catch(() => undefined);
    for (const [area, create] of Object.entries(SCENARIOS)) {
      if (!wanted.has(area)) continue;
      const settle = () => (settings.smoke ? Promise.resolve() : lab.settle(area));
      const scenario = create({ lab, settings, progress, settle });
      progress.step(area, 'setting up');
      await scenario.setup?.();
      try {
        // One warm-up run first, not counted: the first run of an area pays JIT compilation, cold caches and pools
        // (on this 2-core machine its throughput came out 30–50% below the next four, enough to refuse the suite).
        if (!settings.smoke && scenario.warmUp !== false) {
          progress.step(area, 'warm-up run (not counted)');
          await settle();
          await scenario.run(0);
        }
        for (let run = 1; run <= settings.runs; run++) {
          progress.step(area, `run ${run} of ${settings.runs}`);
          await settle();
          const measured = await scenario.run(run);
          samples.push(...measured);
          progress.done(
            area,
            `run ${run}: ${measured.map((m) => `${m.id.slice(m.id.indexOf('.') + 1)} ${formatNumber(m.value)} ${m.unit} ×${formatNumber(m.value / m.baseline)}`).join(', ')}`,
          );
        }
      } finally {
        await scenario.teardown?.();
      }
    }
  } finally {
    await lab.close(keep);
  }

  const figures = aggregateFigures(samples);
  const noisy = settings.smoke ? [] : noisyFigures(figures, maxSpread);
  machine.loadAverage.end = loadavg()[0];
  machine.cpuStolen = stolenSince(cpuAtStart);
  const result: BenchResult = {
    status: settings.smoke ? 'smoke' : noisy.length > 0 ? 'refused' : 'valid',
    startedAt: startedAt.toISOString(),
    durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
    settings,
    maxSpread,
    noisy,
    machine,
    figures,
  };
  // Only a whole suite under the noise rule goes to bench/results (committed); anything else stays in the lab's folder.
  const official = !settings.smoke && !only;
  const profile = settings.quick ? '-quick' : '';
  const dir = official ? join(layout.root, 'bench', 'results') : join(layout.stateDir, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const date = result.startedAt.slice(0, 10);
  const name = result.status === 'refused' ? `${date}${profile}.refused` : `${date}${profile}`;
  const jsonFile = join(dir, `${name}.json`);
  writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);

  if (result.status === 'refused') {
    process.stderr.write(
      `\nbench: REFUSED, the machine was too noisy to report (ratio spread above ${(maxSpread * 100).toFixed(0)}%, or value or baseline above ${(maxSpread * 200).toFixed(0)}%, over ${settings.runs} runs):\n` +
        `${noisy.map((n) => `  - ${n}`).join('\n')}\n` +
        (machine.cpuDrift ? `Meanwhile, on this machine alone, ${describeDrift(machine.cpuDrift)}.\n` : '') +
        `No results table written; the raw runs are in ${jsonFile} (status "refused"). Run again on a quieter machine.\n`,
    );
    return 2;
  }
  const mdFile = join(dir, `${name}.md`);
  writeFileSync(mdFile, renderMarkdown(result));
  process.stdout.write(
    `\n${figures.map((f) => `${f.area.padEnd(16)} ${f.label}: ${figureLine(f)}`).join('\n')}\n\nresults: ${jsonFile}\n`,
  );
  return 0;
}
