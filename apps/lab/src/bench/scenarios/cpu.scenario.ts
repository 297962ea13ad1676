// CPU time per order, end to end, for every lab process, beside what Postgres spends on the raw order transaction in
// the same run; and what the idle lab burns. CPU time is much steadier than throughput on a shared machine: a
// neighbour slows a process down without making it spend more CPU per order.
//
// Per run: the lab settles; the idle lab is sampled; orders go through the gateway at the fixed rate (open model)
// and are followed until the saga ended each and notifications delivered it, the CPU of every process read from /proc
// before and after (children included, the bench's own process excluded); then the raw order transaction at the same
// rate for the same time on bench_raw, with Postgres' CPU read the same way.
import { BENCH_SERVICES } from '../bench-lab';
import { openLoop } from '../bench-load';
import type { ScratchDatabase } from '@faultline/database';
import type { BenchSample } from '../bench-stats';
import {
  awaitFinal,
  createScratchOrdersDatabase,
  describeRefusals,
  gatewayOrders,
  rawOrders,
  type Refusals,
} from '../order-path';
import { treeCpuMs } from '../process-cpu';
import { waitFor } from '../../process/wait-for';
import { sampleOf, type Scenario, type ScenarioContext } from './scenario';

const MIN_RAW_MS = 5_000;

/** Every process of the lab: the services, the supervisor (which also stores the spans), and the infrastructure. */
export const CPU_PROCESSES = [...BENCH_SERVICES, 'supervisor', 'postgres', 'kafka', 'redis', 'prometheus'] as const;

export function cpuScenario({ lab, settings, progress, settle }: ScenarioContext): Scenario {
  const sample = sampleOf('cpu');
  let scratch: ScratchDatabase | undefined;
  let tokens: string[] = [];

  /** The pid of each lab process, as `lab status` knows it; Prometheus may be absent (not installed). */
  const pids = async (): Promise<Record<string, number>> => {
    const statuses = await lab.target.status();
    const found: Record<string, number> = {};
    for (const name of CPU_PROCESSES) {
      const pid = statuses.find((c) => c.name === name)?.pid;
      if (pid) found[name] = pid;
    }
    return found;
  };
  const sum = (ms: Record<string, number>) => Object.values(ms).reduce((a, b) => a + b, 0);
  const spent = (before: Record<string, number>, after: Record<string, number>) =>
    Object.fromEntries(Object.keys(before).map((name) => [name, after[name] - before[name]]));

  return {
    area: 'cpu',
    async setup() {
      scratch = await createScratchOrdersDatabase(lab.layout, 'bench_raw');
      tokens = await lab.tokens(100, 'bench-cpu');
    },
    async run(): Promise<BenchSample[]> {
      const { loadMs, idleMs, rate } = settings;
      await settle();
      const roots = await pids();
      const missing = CPU_PROCESSES.filter((name) => !(name in roots) && name !== 'prometheus');
      if (missing.length > 0) throw new Error(`cpu: no pid for ${missing.join(', ')} in lab status`);

      progress.step('cpu', `the idle lab for ${idleMs / 1000} s`);
      const idleFrom = treeCpuMs(roots);
      const idleStart = performance.now();
      await new Promise((resolve) => setTimeout(resolve, idleMs));
      const idle = spent(idleFrom, treeCpuMs(roots));
      const idleMsPerS = (sum(idle) * 1000) / (performance.now() - idleStart);

      progress.step(
        'cpu',
        `POST /v1/orders at ${rate}/s for ${loadMs / 1000} s, followed to the notification; then the raw transaction at ${rate}/s as long (5 s at least)`,
      );
      const refusals: Refusals = new Map();
      const ids: string[] = [];
      const loadFrom = treeCpuMs(roots);
      await openLoop({ rate, durationMs: loadMs }, gatewayOrders(lab.gateway, tokens, refusals)(ids));
      await awaitFinal((text, params) => lab.sql('orders', text, params), ids);
      // The saga's last step is the customer's notification: its CPU belongs to the order too.
      await waitFor(
        async () =>
          (
            await lab.sql<{ n: number }>(
              'notifications',
              'SELECT count(DISTINCT order_id)::int AS n FROM deliveries WHERE order_id = ANY($1::uuid[])',
              [ids],
            )
          )[0].n >= ids.length,
        {
          description: `${ids.length} orders to be notified`,
          timeoutMs: 120_000,
          intervalMs: 100,
        },
      );
      const load = spent(loadFrom, treeCpuMs(roots));
      if (refusals.size > 0) progress.done('cpu', `refused by the gateway: ${describeRefusals(refusals)}`);
      if (ids.length === 0) throw new Error('cpu: the gateway accepted no order');

      const raw = rawOrders(lab.layout, (scratch as ScratchDatabase).name, 4);
      let rawDone = 0;
      let rawPostgresMs: number;
      try {
        const before = treeCpuMs({ postgres: roots['postgres'] });
        // At least 5 s: /proc counts in 10 ms ticks, and a smoke run's 1 s at 20/s could read 0 ticks for Postgres.
        rawDone = (await openLoop({ rate, durationMs: Math.max(loadMs, MIN_RAW_MS) }, (i) => raw.place(i))).done;
        rawPostgresMs = treeCpuMs({ postgres: roots['postgres'] }).postgres - before.postgres;
      } finally {
        await raw.end();
      }
      const rawPerTx = rawPostgresMs / rawDone;
      const perOrder = (ms: number) => ms / ids.length;
      const baselineLabel = `Postgres CPU per raw order transaction at ${rate}/s`;
      return [
        sample(
          'per-order',
          `CPU per order end to end, every lab process, at ${rate}/s`,
          'ms',
          perOrder(sum(load)),
          baselineLabel,
          rawPerTx,
        ),
        ...Object.keys(load).map((name) =>
          sample(name, `${name} CPU per order at ${rate}/s`, 'ms', perOrder(load[name]), baselineLabel, rawPerTx),
        ),
        // A ratio against one core (1,000 ms of CPU a second) is the share of a core the idle lab keeps busy.
        sample(
          'idle',
          'the idle lab, every process: CPU ms per second',
          'ms/s',
          idleMsPerS,
          'one core (1,000 ms of CPU per second)',
          1000,
        ),
      ];
    },
    async teardown() {
      await scratch?.drop();
    },
  };
}
