// Order placement through the gateway vs the same transaction straight against Postgres, and (area `memory`) every
// service's peak RSS under that order load vs its RSS at idle before the first run.
//
// Per run: raw capacity (closed loop on bench_raw) and raw latency at the fixed rate (open model), then the same two
// through the gateway; the gateway's accepted orders are also followed until the saga ends them (end to end).
import { BENCH_SERVICES, rssMiB } from '../bench-lab';
import { closedLoop, openLoop } from '../bench-load';
import type { BenchSample } from '../bench-stats';
import { awaitFinal, createScratchOrdersDatabase, placeOrderViaGateway, rawOrders, Refusals } from '../order-path';
import { sampleOf, Scenario, ScenarioContext } from './scenario';

export function ordersScenario({ lab, settings, progress }: ScenarioContext): Scenario {
  const sample = sampleOf('orders');
  const memory = sampleOf('memory');
  let scratch = '';
  let tokens: string[] = [];
  /** RSS before any load: measured once, since a Node process keeps the heap it grew (idle after a run is not idle). */
  let idle: Record<string, number> = {};
  const finalIn = (ids: string[]) => awaitFinal((text, params) => lab.sql('orders', text, params), ids);

  return {
    area: 'orders',
    async setup() {
      scratch = await createScratchOrdersDatabase(lab.layout);
      tokens = await lab.tokens(100, 'bench-orders');
      idle = Object.fromEntries(await Promise.all(BENCH_SERVICES.map(async (s) => [s, rssMiB(await lab.pidOf(s))] as const)));
    },
    async run(): Promise<BenchSample[]> {
      const { phaseMs, rate, concurrency } = settings;
      const pids = Object.fromEntries(await Promise.all(BENCH_SERVICES.map(async (s) => [s, await lab.pidOf(s)] as const)));

      const raw = rawOrders(lab.layout, scratch, concurrency);
      let rawCapacity, rawFixed;
      try {
        progress.step('orders', `raw Postgres: the order transaction, ${concurrency} connections, then ${rate}/s`);
        rawCapacity = await closedLoop({ durationMs: phaseMs, workers: concurrency }, (i) => raw.place(i));
        rawFixed = await openLoop({ rate, durationMs: phaseMs }, (i) => raw.place(i));
      } finally {
        await raw.end();
      }

      // Peak RSS of each service while the gateway phases run.
      const peak = Object.fromEntries(BENCH_SERVICES.map((s) => [s, 0]));
      const sampleRss = () => BENCH_SERVICES.forEach((s) => (peak[s] = Math.max(peak[s], rssMiB(pids[s]))));
      const timer = setInterval(sampleRss, 200);
      const refusals: Refusals = new Map();
      try {
        progress.step('orders', `POST /v1/orders through the gateway, ${concurrency} clients, then ${rate}/s`);
        const placed: string[] = [];
        const capacity = await closedLoop({ durationMs: phaseMs, workers: concurrency }, async (i) => {
          const id = await placeOrderViaGateway(lab.gateway, tokens[i % tokens.length], i, refusals);
          if (id) placed.push(id);
        });
        const began = performance.now() - capacity.elapsedMs;
        const endToEnd = (placed.length * 1000) / ((await finalIn(placed)) - began);
        const fixedIds: string[] = [];
        const fixed = await openLoop({ rate, durationMs: phaseMs }, async (i) => {
          const id = await placeOrderViaGateway(lab.gateway, tokens[i % tokens.length], i, refusals);
          if (id) fixedIds.push(id);
        });
        await finalIn(fixedIds);
        sampleRss();
        if (refusals.size > 0) progress.done('orders', `refused by the gateway: ${[...refusals].map(([status, n]) => `${n}× ${status}`).join(', ')}`);
        return [
          sample('gateway-throughput', 'orders accepted through the gateway (saturated)', 'orders/s', (placed.length * 1000) / capacity.elapsedMs, 'raw order transaction on Postgres', rawCapacity.perSecond),
          sample('end-to-end-throughput', 'orders end to end (accepted → CONFIRMED/REJECTED)', 'orders/s', endToEnd, 'raw order transaction on Postgres', rawCapacity.perSecond),
          sample('gateway-p50', `POST /v1/orders p50 at ${rate}/s`, 'ms', fixed.p50, `raw transaction p50 at ${rate}/s`, rawFixed.p50),
          sample('gateway-p99', `POST /v1/orders p99 at ${rate}/s`, 'ms', fixed.p99, `raw transaction p99 at ${rate}/s`, rawFixed.p99),
          ...BENCH_SERVICES.map((s) => memory(s, `${s} RSS, peak under the order load`, 'MiB', peak[s], `${s} RSS at idle, before any load`, idle[s])),
        ];
      } finally {
        clearInterval(timer);
      }
    },
  };
}
