// `npm run bench:orders`: what placing an order costs end to end, next to the raw cost of the same transaction.
//
// On its own lab (.lab/bench, ports +3600), in one run on one machine:
//   1. raw:        the orders transaction (customer, order, items, idempotency record, outbox row) driven directly
//                  against Postgres, closed loop, in a scratch copy of the orders schema (no relay reads it);
//   2. saturation: POST /v1/orders through the gateway, closed loop: accepted orders/s, then end to end (until every
//                  order is CONFIRMED/REJECTED) orders/s;
//   3. fixed rate: an open-model load at --rate orders/s: gateway latency p50/p99 and the relay's commit → Kafka-ack
//                  lag p50/p99 (from its histogram, so good to the bucket).
// Prints a table with each figure next to its baseline. A benchmark, not a test: nothing here asserts a number.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { tokenCommand } from '../commands/token.command';
import { findPostgresBinDir, postgresUrl } from '../infra/infra';
import { resolveLayout } from '../layout/lab-layout';
import { LocalTarget } from '../local/local-target';
import { consoleProgress } from '../process/progress';
import { histogramBuckets, histogramQuantile, summarize } from './bench-stats';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const seconds = Number(args.get('seconds') ?? 15);
const rate = Number(args.get('rate') ?? 40);
const concurrency = Number(args.get('concurrency') ?? 16);
const keep = args.has('keep');
const layout = resolveLayout({ ...process.env, LAB_STATE_DIR: process.env['LAB_STATE_DIR'] ?? '.lab/bench', LAB_PORT_OFFSET: process.env['LAB_PORT_OFFSET'] ?? '3600', LAB_GATEWAY_PORT: '' });
const gateway = `http://127.0.0.1:${layout.ports.gateway}`;
const progress = consoleProgress();
const items = (i: number) => [{ sku: `SKU-${String((i % 50) + 1).padStart(4, '0')}`, quantity: 1 }];

async function closedLoop(durationMs: number, workers: number, work: (i: number) => Promise<void>): Promise<{ done: number; elapsedMs: number; latencies: number[] }> {
  const started = Date.now();
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() - started < durationMs) {
        const i = next++;
        const t = performance.now();
        await work(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { done: latencies.length, elapsedMs: Date.now() - started, latencies };
}

async function rawPostgres(): Promise<{ perSecond: number; p50: number; p99: number }> {
  const admin = new Client({ connectionString: postgresUrl(layout, 'postgres') });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS bench_raw');
  await admin.query('CREATE DATABASE bench_raw');
  await admin.end();
  // The exact schema orders runs with, copied without data (and without its publication: nothing relays this copy).
  const bin = findPostgresBinDir();
  const schema = execFileSync(join(bin, 'pg_dump'), ['--schema-only', '--no-publications', '--no-owner', postgresUrl(layout, 'orders')], { encoding: 'utf8' });
  execFileSync(join(bin, 'psql'), ['-q', '-v', 'ON_ERROR_STOP=1', postgresUrl(layout, 'bench_raw')], { input: schema, stdio: ['pipe', 'ignore', 'inherit'] });
  const pool = new Pool({ connectionString: postgresUrl(layout, 'bench_raw'), max: concurrency });
  const result = await closedLoop(seconds * 1000, concurrency, async (i) => {
    const client = await pool.connect();
    try {
      const id = randomUUID();
      const customer = `customer-${(i % 200) + 1}`;
      const order = { id, customerId: customer, status: 'PENDING', items: items(i), createdAt: new Date().toISOString() };
      await client.query('BEGIN');
      await client.query("SELECT pg_try_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))", [customer, `key-${id}`]);
      await client.query('SELECT request_hash FROM idempotency_keys WHERE customer_id = $1 AND key = $2', [customer, `key-${id}`]);
      await client.query('INSERT INTO customers (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING', [customer]);
      await client.query("INSERT INTO orders (id, customer_id, status, item_count, created_at, updated_at) VALUES ($1, $2, 'PENDING', 1, now(), now())", [id, customer]);
      await client.query('INSERT INTO order_items (order_id, line, sku, quantity) VALUES ($1, 1, $2, 1)', [id, order.items[0].sku]);
      await client.query(
        "INSERT INTO outbox (id, aggregatetype, aggregateid, type, version, payload) VALUES ($1, 'Order', $2, 'OrderPlaced', 1, $3)",
        [randomUUID(), id, JSON.stringify({ orderId: id, customerId: customer, items: order.items, placedAt: order.createdAt })],
      );
      await client.query(
        "INSERT INTO idempotency_keys (customer_id, key, request_hash, order_id, response_status, response_body, expires_at) VALUES ($1, $2, $3, $4, 201, $5, now() + interval '24 hours')",
        [customer, `key-${id}`, '0'.repeat(64), id, JSON.stringify(order)],
      );
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  });
  await pool.end();
  const s = summarize(result.latencies);
  return { perSecond: (result.done * 1000) / result.elapsedMs, p50: s.p50, p99: s.p99 };
}

async function tokens(count: number): Promise<string[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => tokenCommand(layout, { sub: `bench-${i}`, role: 'customer', tier: 'paid', ttl: '3600' })));
}

/** Refusals by status (503 shed or limiter unavailable, 429, 504…): at saturation they are part of the result. */
const refusals = new Map<number, number>();

async function placeOrder(token: string, i: number): Promise<string | undefined> {
  const response = await fetch(`${gateway}/v1/orders`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ items: items(i) }),
  });
  const body = (await response.json()) as { id?: string };
  if (response.status === 201 && body.id) return body.id;
  if (response.status < 500 && response.status !== 429) throw new Error(`POST /v1/orders answered ${response.status}: ${JSON.stringify(body)}`);
  refusals.set(response.status, (refusals.get(response.status) ?? 0) + 1);
  return undefined;
}

const refusalSummary = () => [...refusals].map(([status, n]) => `${n}× ${status}`).join(', ') || 'none';

async function awaitFinal(ids: string[]): Promise<number> {
  const client = new Client({ connectionString: postgresUrl(layout, 'orders') });
  await client.connect();
  try {
    for (;;) {
      const { rows } = await client.query("SELECT count(*)::int AS pending FROM orders WHERE id = ANY($1::uuid[]) AND status = 'PENDING'", [ids]);
      if (rows[0].pending === 0) return Date.now();
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await client.end();
  }
}

const relayMetrics = async () => (await fetch(`http://127.0.0.1:${layout.ports.relayOrdersHttp}/metrics`)).text();
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

async function main() {
  progress.step('bench', `bringing up the bench lab (${layout.stateDir}, ports +${layout.portOffset})`);
  const target = new LocalTarget(layout);
  // The bench measures the order path, not the rate limiter (npm run bench:rate-limit does): limits out of the way.
  const unlimited = Object.fromEntries(['FREE', 'PAID'].flatMap((t) => ['READ', 'WRITE'].flatMap((k) => [[`RATE_LIMIT_${t}_${k}_BURST`, '100000'], [`RATE_LIMIT_${t}_${k}_PER_MINUTE`, '6000000']])));
  await target.up(progress, { gateway: unlimited });
  const pool = await tokens(100);

  progress.step('bench', `raw Postgres: the orders transaction, ${concurrency} connections, ${seconds} s`);
  const raw = await rawPostgres();

  progress.step('bench', `saturation: POST /v1/orders through the gateway, ${concurrency} clients, ${seconds} s`);
  const placed: string[] = [];
  const saturation = await closedLoop(seconds * 1000, concurrency, async (i) => {
    const id = await placeOrder(pool[i % pool.length], i);
    if (id) placed.push(id);
  });
  const saturationRefusals = refusalSummary();
  refusals.clear();
  const saturationStart = Date.now() - saturation.elapsedMs;
  const finalAt = await awaitFinal(placed);
  const accepted = (placed.length * 1000) / saturation.elapsedMs;
  const endToEnd = (placed.length * 1000) / (finalAt - saturationStart);

  progress.step('bench', `fixed rate: ${rate} orders/s for ${seconds} s (open model)`);
  const before = histogramBuckets(await relayMetrics(), 'outbox_relay_lag_seconds');
  const latencies: number[] = [];
  const fixedIds: string[] = [];
  const started = Date.now();
  const total = Math.round(rate * seconds);
  await Promise.all(
    Array.from({ length: total }, async (_, i) => {
      const due = started + (i * 1000) / rate;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      const t = performance.now();
      const id = await placeOrder(pool[i % pool.length], i);
      latencies.push(performance.now() - t);
      if (id) fixedIds.push(id);
    }),
  );
  await awaitFinal(fixedIds);
  const after = histogramBuckets(await relayMetrics(), 'outbox_relay_lag_seconds');
  const gatewayLatency = summarize(latencies);
  const lag = { p50: histogramQuantile(before, after, 0.5) * 1000, p99: histogramQuantile(before, after, 0.99) * 1000 };

  const rows = [
    ['raw Postgres, the orders transaction', `${fmt(raw.perSecond)} tx/s`, `p50 ${fmt(raw.p50)} ms, p99 ${fmt(raw.p99)} ms`, 'baseline'],
    ['gateway, accepted (POST /v1/orders, saturated)', `${fmt(accepted)} orders/s`, `p50 ${fmt(summarize(saturation.latencies).p50)} ms, p99 ${fmt(summarize(saturation.latencies).p99)} ms; refused: ${saturationRefusals}`, `×${fmt(accepted / raw.perSecond, 2)} of raw`],
    ['end to end, until CONFIRMED/REJECTED', `${fmt(endToEnd)} orders/s`, `${placed.length} orders`, `×${fmt(endToEnd / raw.perSecond, 2)} of raw`],
    [`gateway at a fixed ${rate} orders/s`, `${fixedIds.length} of ${total} accepted`, `p50 ${fmt(gatewayLatency.p50)} ms, p99 ${fmt(gatewayLatency.p99)} ms; refused: ${refusalSummary()}`, ''],
    [`relay lag at ${rate} orders/s (commit → Kafka ack)`, '', `p50 ${fmt(lag.p50)} ms, p99 ${fmt(lag.p99)} ms`, 'histogram buckets: 5, 10, 25, 50, 100 ms …'],
  ];
  process.stdout.write(
    [
      '',
      `orders benchmark (${new Date().toISOString()}, node ${process.version}, ${seconds} s per phase, ${concurrency} clients)`,
      '| measurement | throughput | latency | vs baseline |',
      '|---|---|---|---|',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
    ].join('\n'),
  );
  if (!keep) await target.down(progress);
}

main().catch((error) => {
  process.stderr.write(`bench:orders failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
