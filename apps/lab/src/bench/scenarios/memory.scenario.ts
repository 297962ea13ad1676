// Every service's RSS under the order load vs its RSS idle, each run from freshly started processes.
//
// A Node process's RSS is history: V8 grows its heap under load and gives memory back at its own pace over minutes,
// so the same service idled at 150 or at 260 MiB depending on when it was last busy, and under a modest load its RSS
// said more about that history than about the load. Each run therefore restarts every service (as the supervisor
// restarts a crashed pod), lets the lab settle, samples RSS idle, then under orders through the gateway at the fixed
// rate: the same starting point every run, the load the only difference. Runs last in the suite: restarting the
// services must not cool down the areas measured after it.
import { BENCH_SERVICES, rssMiB } from '../bench-lab';
import { openLoop } from '../bench-load';
import { median, type BenchSample } from '../bench-stats';
import { awaitFinal, describeRefusals, gatewayOrders, Refusals } from '../order-path';
import { sampleOf, Scenario, ScenarioContext } from './scenario';

/** How long the idle processes are sampled (every 200 ms) before the load starts. */
const IDLE_MS = 5000;

export function memoryScenario({ lab, settings, progress, settle }: ScenarioContext): Scenario {
  const sample = sampleOf('memory');
  let tokens: string[] = [];

  return {
    area: 'memory',
    warmUp: false,
    async setup() {
      tokens = await lab.tokens(100, 'bench-memory');
    },
    async run(): Promise<BenchSample[]> {
      const { loadMs, rate } = settings;
      progress.step('memory', `restarting ${BENCH_SERVICES.length} services: every run starts from fresh processes`);
      await lab.restartServices(BENCH_SERVICES);
      await settle();
      const pids = Object.fromEntries(
        await Promise.all(BENCH_SERVICES.map(async (s) => [s, await lab.pidOf(s)] as const)),
      );
      progress.step(
        'memory',
        `RSS idle for ${IDLE_MS / 1000} s, then under POST /v1/orders at ${rate}/s for ${loadMs / 1000} s`,
      );
      const idle = rssSampler(pids);
      await idle.during(() => new Promise((resolve) => setTimeout(resolve, IDLE_MS)));
      const refusals: Refusals = new Map();
      const ids: string[] = [];
      const loaded = rssSampler(pids);
      await loaded.during(() =>
        openLoop({ rate, durationMs: loadMs }, gatewayOrders(lab.gateway, tokens, refusals)(ids)),
      );
      await awaitFinal((text, params) => lab.sql('orders', text, params), ids);
      if (refusals.size > 0) progress.done('memory', `refused by the gateway: ${describeRefusals(refusals)}`);
      return BENCH_SERVICES.map((s) =>
        sample(
          s,
          `${s} RSS under the order load at ${rate}/s (median of samples)`,
          'MiB',
          loaded.median(s),
          `${s} RSS idle, freshly started`,
          idle.median(s),
        ),
      );
    },
  };
}

/** RSS of every service, sampled every 200 ms while `work` runs; the median of each service's samples. */
function rssSampler(pids: Record<string, number>) {
  const samples = Object.fromEntries(BENCH_SERVICES.map((s) => [s, [] as number[]]));
  const take = () => BENCH_SERVICES.forEach((s) => samples[s].push(rssMiB(pids[s])));
  return {
    async during<T>(work: () => Promise<T>): Promise<T> {
      take();
      const timer = setInterval(take, 200);
      try {
        return await work();
      } finally {
        clearInterval(timer);
        take();
      }
    },
    median: (service: string) => median(samples[service]),
  };
}
