// Order placement through the gateway vs the same transaction straight against Postgres.
//
// Per run, each gateway phase beside its raw twin (so both see the same machine): capacity through the gateway between
// two halves of raw capacity (closed loops; raw on bench_raw), the gateway's accepted orders also followed until the
// saga ends them (end to end); the lab settles; then latency at the fixed rate (open model), raw and through the
// gateway side by side.
import { closedLoop, openLoop } from '../bench-load';
import type { BenchSample } from '../bench-stats';
import {
  awaitFinal,
  createScratchOrdersDatabase,
  describeRefusals,
  gatewayOrders,
  rawOrders,
  Refusals,
} from '../order-path';
import { sampleOf, Scenario, ScenarioContext } from './scenario';

export function ordersScenario({ lab, settings, progress, settle }: ScenarioContext): Scenario {
  const sample = sampleOf('orders');
  let scratch = '';
  let tokens: string[] = [];
  const finalIn = (ids: string[]) => awaitFinal((text, params) => lab.sql('orders', text, params), ids);

  return {
    area: 'orders',
    async setup() {
      scratch = (await createScratchOrdersDatabase(lab.layout, 'bench_raw')).name;
      tokens = await lab.tokens(100, 'bench-orders');
    },
    async run(): Promise<BenchSample[]> {
      const { phaseMs, ordersFixedMs, rate, concurrency } = settings;
      const refusals: Refusals = new Map();
      const viaGateway = gatewayOrders(lab.gateway, tokens, refusals);
      const raw = rawOrders(lab.layout, scratch, concurrency);
      try {
        progress.step(
          'orders',
          `capacity: POST /v1/orders from ${concurrency} clients between two halves of the raw order transaction on ${concurrency} connections`,
        );
        // The raw halves bracket the gateway's phase (the second once the saga has finished its orders), so a drift of
        // the machine during the run weighs on both sides.
        const rawHalf = () => closedLoop({ durationMs: phaseMs / 2, workers: concurrency }, (i) => raw.place(i));
        const rawBefore = await rawHalf();
        const placed: string[] = [];
        const capacity = await closedLoop({ durationMs: phaseMs, workers: concurrency }, viaGateway(placed));
        const began = performance.now() - capacity.elapsedMs;
        const endToEnd = (placed.length * 1000) / ((await finalIn(placed)) - began);
        const rawAfter = await rawHalf();
        const rawPerSecond = ((rawBefore.done + rawAfter.done) * 1000) / (rawBefore.elapsedMs + rawAfter.elapsedMs);
        await settle();

        progress.step(
          'orders',
          `latency: the raw order transaction and POST /v1/orders, each at ${rate}/s, side by side for ${ordersFixedMs / 1000} s`,
        );
        const fixedIds: string[] = [];
        // In the same seconds: a hiccup of the machine (a GC, a flush, a neighbour) lands on both sides, and the
        // phase yields twice the samples it would one side after the other.
        const [rawFixed, fixed] = await Promise.all([
          openLoop({ rate, durationMs: ordersFixedMs }, (i) => raw.place(i)),
          openLoop({ rate, durationMs: ordersFixedMs }, viaGateway(fixedIds)),
        ]);
        await finalIn(fixedIds);
        if (refusals.size > 0) progress.done('orders', `refused by the gateway: ${describeRefusals(refusals)}`);
        return [
          sample(
            'gateway-throughput',
            'orders accepted through the gateway (saturated)',
            'orders/s',
            (placed.length * 1000) / capacity.elapsedMs,
            'raw order transaction on Postgres',
            rawPerSecond,
          ),
          sample(
            'end-to-end-throughput',
            'orders end to end (accepted → CONFIRMED/REJECTED)',
            'orders/s',
            endToEnd,
            'raw order transaction on Postgres',
            rawPerSecond,
          ),
          sample(
            'gateway-p50',
            `POST /v1/orders p50 at ${rate}/s`,
            'ms',
            fixed.p50,
            `raw transaction p50 at ${rate}/s`,
            rawFixed.p50,
          ),
          sample(
            'gateway-p99',
            `POST /v1/orders p99 at ${rate}/s`,
            'ms',
            fixed.p99,
            `raw transaction p99 at ${rate}/s`,
            rawFixed.p99,
          ),
        ];
      } finally {
        await raw.end();
      }
    },
  };
}
