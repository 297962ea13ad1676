import { CheckContext, evaluate } from './checks';
import type { RequestRecord } from './load';

const context = (records: RequestRecord[]): CheckContext => ({
  runId: 'abc123',
  records,
  window: { injectedAt: 0, healedAt: 10_000 },
  facts: {},
  baseUrl: 'http://127.0.0.1:1',
  layout: {} as CheckContext['layout'],
  sql: () => Promise.reject(new Error('no database in a unit test')),
  dbSamples: [],
  metricsBefore: '',
  loadStartedAt: 0,
});

const page = (t: number, queries: number, items = 50, ms = 40): RequestRecord => ({ t, route: 'GET /v1/orders', status: 200, ms, queries, items });
const spec = [{ check: 'queries-per-request' as const, route: 'GET /v1/orders', maxQueries: 2 }];

describe('queries-per-request', () => {
  it('holds for batched pages (2 queries for 50 orders)', async () => {
    const [result] = await evaluate(context(Array.from({ length: 10 }, (_, i) => page(i * 100, 2))), spec);
    expect(result).toMatchObject({ ok: true, damage: [] });
    expect(result.detail).toMatch(/10 of 10 GET \/v1\/orders answered a page of orders \(median 50 orders; 0 answered 5xx or not at all\): median 2 SQL queries/);
  });

  it('fails for naive pages (1 + 50 queries), with the extra queries and the p99 as the damage', async () => {
    const records = [...Array.from({ length: 9 }, (_, i) => page(i * 100, 51, 50, 300)), page(950, 51, 50, 2100), { t: 990, route: 'GET /v1/orders', status: 504, ms: 2000 }];
    const [result] = await evaluate(context(records), spec);
    expect(result.ok).toBe(false);
    expect(result.inconclusive).toBeFalsy();
    expect(result.detail).toMatch(/10 of 11 .*1 answered 5xx or not at all\): median 51 SQL queries per request, max 51 \(budget 2/);
    expect(result.damage).toEqual([
      '10 of 10 requests issued more than 2 queries: median 51 per page of 50 orders, one round trip per order for its customer\'s name (N+1)',
      '490 extra queries on the orders database; each pays the edge\'s latency, so the p99 of GET /v1/orders was 2100 ms during the fault',
      '1 of 11 GET /v1/orders failed (504×1): a 504 is a page that outlasted the gateway\'s deadline to orders',
    ]);
  });

  it('is inconclusive when no page held an order: an empty page costs one query in either variant', async () => {
    const [result] = await evaluate(context([page(0, 1, 0), page(100, 1, 0)]), spec);
    expect(result).toMatchObject({ ok: false, inconclusive: true });
  });
});
