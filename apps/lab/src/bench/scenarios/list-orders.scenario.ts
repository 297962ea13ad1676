// GET /v1/orders?limit=50 (an admin's page: 50 orders of many customers) naive vs batched: queries per request
// (the X-Query-Count header orders reports) and latency. Batched is the lab's gateway and orders; naive is a second
// orders of the bench lab with ORDERS_LIST=naive behind the bench's second gateway (BenchLab.secondGateway). Naive and
// batched pages alternate in 20 slices, so both see the same machine.
import { closedLoop, interleaved } from '../bench-load';
import type { BenchSample } from '../bench-stats';
import { awaitFinal, rawOrders } from '../order-path';
import { sampleOf, Scenario, ScenarioContext } from './scenario';

const PAGE = 50;
const CLIENTS = 4;
const SLICES = 20;

export function listOrdersScenario({ lab, settings, progress }: ScenarioContext): Scenario {
  const sample = sampleOf('list-orders');
  let naiveUrl = '';
  let token = '';

  /**
   * Failed pages (a 504 when orders misses the gateway's deadline on a busy machine) count by status, not as queries.
   */
  const failed = new Map<number, number>();
  const list = async (base: string, queries: number[]) => {
    const response = await fetch(`${base}/v1/orders?limit=${PAGE}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as { items?: unknown[] };
    if (response.status === 200 && body.items?.length === PAGE)
      queries.push(Number(response.headers.get('x-query-count')));
    else failed.set(response.status, (failed.get(response.status) ?? 0) + 1);
  };
  const mean = (xs: number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

  return {
    area: 'list-orders',
    async setup() {
      // A page needs 50 orders; a fresh lab that ran no other area gets them here.
      const [{ n }] = await lab.sql<{ n: number }>('orders', 'SELECT count(*)::int AS n FROM orders');
      if (n < PAGE) {
        const orders = rawOrders(lab.layout, 'orders', 4);
        const ids: string[] = [];
        for (let i = 0; i < PAGE; i++) ids.push(await orders.place(i, 'bench-list'));
        await orders.end();
        await awaitFinal((text, params) => lab.sql('orders', text, params), ids);
      }
      naiveUrl = (await lab.secondGateway()).url;
      [token] = await lab.tokens(1, 'bench-admin', 'admin');
    },
    async run(): Promise<BenchSample[]> {
      const { pages } = settings;
      await closedLoop({ limit: 10, workers: CLIENTS }, () => list(naiveUrl, [])); // warm-up
      await closedLoop({ limit: 10, workers: CLIENTS }, () => list(lab.gateway, []));
      progress.step(
        'list-orders',
        `${pages} pages of ${PAGE} naive and ${pages} batched, ${CLIENTS} clients, alternating`,
      );
      const naiveQueries: number[] = [];
      const batchedQueries: number[] = [];
      const slice = Math.max(1, Math.round(pages / SLICES));
      const [naive, batched] = await interleaved(
        SLICES,
        () => closedLoop({ limit: slice, workers: CLIENTS }, () => list(naiveUrl, naiveQueries)),
        () => closedLoop({ limit: slice, workers: CLIENTS }, () => list(lab.gateway, batchedQueries)),
      );
      if (failed.size > 0)
        progress.done(
          'list-orders',
          `pages that failed: ${[...failed].map(([status, n]) => `${n}× ${status}`).join(', ')}`,
        );
      failed.clear();
      return [
        sample(
          'queries',
          `database queries per page of ${PAGE}, naive`,
          'queries',
          mean(naiveQueries),
          'batched',
          mean(batchedQueries),
        ),
        sample('p50', `GET /v1/orders?limit=${PAGE} p50, naive`, 'ms', naive.p50, 'batched', batched.p50),
        sample('p99', `GET /v1/orders?limit=${PAGE} p99, naive`, 'ms', naive.p99, 'batched', batched.p99),
      ];
    },
  };
}
