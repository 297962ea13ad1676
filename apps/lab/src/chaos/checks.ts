// Verdict checks, evaluated on data: SQL across the service databases (only this run's customers' orders), the
// dead-letter topics, the services' /metrics, the load's own per-request timings and query counts, and the spans of
// the lab's trace store (trace-checks.ts). Each returns what it saw, and when it fails, the damage (ids, counts).
import type { WatchSummary } from '../migrate/migration-watch';
import { setTimeout as sleep } from 'node:timers/promises';
import { listDlq } from '@faultline/messaging';
import { kafkaBrokers } from '../infra/infra';
import { DLQ_TOPICS } from '../commands/dlq.command';
import type { StoredSpan } from '../tracing/otlp-receiver';
import { readStoredSpans } from '../tracing/span-tree';
import { traceStoreDir } from '../tracing/trace-store';
import type { VerdictCheckSpec } from './experiment-schema';
import { percentile, RequestRecord } from './load';
import { breakerOpenTraces, orderTraceHops, traceIsBroken } from './trace-checks';

export interface CheckResult {
  check: string;
  ok: boolean;
  /** A check the runner cannot evaluate (not implemented, nothing to measure): makes the run inconclusive. */
  inconclusive?: boolean;
  detail: string;
  damage?: string[];
}

export interface CheckContext {
  runId: string;
  records: RequestRecord[];
  window: { injectedAt?: number; healedAt?: number };
  facts: Record<string, unknown>;
  baseUrl: string;
  layout: Parameters<typeof kafkaBrokers>[0];
  sql(database: 'orders' | 'inventory' | 'notifications', text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Samples of the orders database's pg_stat_database taken every second during the run (ms since load start). */
  dbSamples: { t: number; xactCommit: number; tupReturned: number }[];
  metricsBefore: string;
  /** Epoch ms the load started: record times and the fault window are relative to it; span times are absolute. */
  loadStartedAt: number;
}

export const customerPattern = (runId: string) => `chaos-${runId}-%`;

export async function runOrders(ctx: Pick<CheckContext, 'sql' | 'runId'>): Promise<{ id: string; status: string; customer: string }[]> {
  const rows = await ctx.sql('orders', 'SELECT id::text AS id, status, customer_id FROM orders WHERE customer_id LIKE $1', [customerPattern(ctx.runId)]);
  return rows.map((r) => ({ id: String(r['id']), status: String(r['status']), customer: String(r['customer_id']) }));
}

const isError = (r: RequestRecord) => r.status === 0 || r.status >= 500;
const inWindow = (ctx: CheckContext, r: RequestRecord, graceMs = 0) =>
  ctx.window.injectedAt !== undefined && r.t >= ctx.window.injectedAt + graceMs && r.t <= (ctx.window.healedAt ?? Number.POSITIVE_INFINITY);
const sample = (ids: string[], n = 10) => (ids.length > n ? [...ids.slice(0, n), `… and ${ids.length - n} more`] : ids);

export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/**
 * The stored spans, once `arrived` says the run's spans are in: services export in batches every few seconds, so
 * the store is polled on that condition (at most `timeoutMs`), and what is there then is judged.
 */
async function spansWhen(ctx: CheckContext, arrived: (spans: StoredSpan[]) => boolean, timeoutMs = 20_000): Promise<StoredSpan[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = readStoredSpans(traceStoreDir(ctx.layout));
    if (arrived(spans) || Date.now() > deadline) return spans;
    await sleep(1000);
  }
}

type Evaluator = (ctx: CheckContext, spec: VerdictCheckSpec) => Promise<Omit<CheckResult, 'check'>>;

const EVALUATORS: Partial<Record<VerdictCheckSpec['check'], Evaluator>> = {
  async 'all-orders-final'(ctx) {
    const orders = await runOrders(ctx);
    const pending = orders.filter((o) => o.status === 'PENDING').map((o) => o.id);
    const accepted = new Set(ctx.records.filter((r) => r.orderId).map((r) => r.orderId));
    const missing = [...accepted].filter((id) => !orders.some((o) => o.id === id)) as string[];
    const by = (s: string) => orders.filter((o) => o.status === s).length;
    return {
      ok: orders.length > 0 && pending.length === 0 && missing.length === 0,
      detail: `${orders.length} orders in the orders db (${by('CONFIRMED')} CONFIRMED, ${by('REJECTED')} REJECTED, ${pending.length} PENDING); ${accepted.size} accepted with 201; ${missing.length} accepted but missing`,
      damage: [...sample(pending).map((id) => `stuck PENDING (its event was lost): ${id}`), ...sample(missing).map((id) => `accepted but not in the db: ${id}`)],
    };
  },
  async 'one-notification-per-order'(ctx) {
    const orders = await runOrders(ctx);
    const ids = orders.map((o) => o.id);
    const rows = await ctx.sql('notifications', 'SELECT order_id::text AS id, count(*)::int AS n FROM notifications WHERE order_id = ANY($1::uuid[]) GROUP BY order_id', [ids]);
    const count = new Map(rows.map((r) => [String(r['id']), Number(r['n'])]));
    const missing = ids.filter((id) => !count.has(id));
    const duplicated = ids.filter((id) => (count.get(id) ?? 0) > 1);
    return {
      ok: ids.length > 0 && missing.length === 0 && duplicated.length === 0,
      detail: `${ids.length} orders, ${rows.length} with a notification, ${missing.length} without, ${duplicated.length} with more than one`,
      damage: [...sample(missing).map((id) => `no notification: ${id}`), ...sample(duplicated).map((id) => `duplicate notifications: ${id}`)],
    };
  },
  async 'stock-never-negative'(ctx) {
    const [row] = await ctx.sql('inventory', 'SELECT min(available)::int AS lowest, count(*) FILTER (WHERE available < 0)::int AS negative FROM products');
    return { ok: Number(row['negative']) === 0 && Number(row['lowest']) >= 0, detail: `lowest stock ${row['lowest']}, ${row['negative']} SKUs below 0` };
  },
  async 'client-error-ratio'(ctx, spec) {
    const rs = ctx.records.filter((r) => r.route === spec.route);
    const errors = rs.filter(isError);
    const ratio = rs.length ? errors.length / rs.length : 1;
    return {
      ok: rs.length > 0 && ratio <= (spec.max ?? 0),
      inconclusive: rs.length === 0,
      detail: `${errors.length} of ${rs.length} ${spec.route} answered 5xx or not at all (${(ratio * 100).toFixed(2)} %, max ${((spec.max ?? 0) * 100).toFixed(2)} %)`,
      damage: sample(errors.map((r) => `+${(r.t / 1000).toFixed(1)} s ${r.status || r.error}`)),
    };
  },
  async 'orders-accepted-during-fault'(ctx, spec) {
    const rs = ctx.records.filter((r) => r.route === 'POST /v1/orders' && inWindow(ctx, r));
    const accepted = rs.filter((r) => r.status === 201).length;
    const max = spec.max ?? 0.02;
    return {
      ok: rs.length > 0 && accepted >= rs.length * (1 - max),
      inconclusive: rs.length === 0,
      detail: `${accepted} of ${rs.length} orders sent during the fault were accepted (201); at most ${(max * 100).toFixed(0)} % may be refused`,
    };
  },
  async 'one-order-per-key'(ctx) {
    const orders = await runOrders(ctx);
    const keyed = await ctx.sql('orders', 'SELECT order_id::text AS id, key FROM idempotency_keys WHERE customer_id LIKE $1', [customerPattern(ctx.runId)]);
    const keyedIds = new Set(keyed.map((r) => String(r['id'])));
    const unkeyed = orders.filter((o) => !keyedIds.has(o.id)).map((o) => o.id);
    const answers = new Map<string, Set<string>>();
    for (const r of ctx.records) if (r.key && r.orderId) answers.set(r.key, (answers.get(r.key) ?? new Set()).add(r.orderId));
    const split = [...answers].filter(([, ids]) => ids.size > 1).map(([key, ids]) => `key ${key} answered with ${[...ids].join(', ')}`);
    const keys = new Set(ctx.records.filter((r) => r.key).map((r) => r.key));
    return {
      ok: unkeyed.length === 0 && split.length === 0 && orders.length <= keys.size,
      detail: `${keys.size} keys sent, ${orders.length} orders created, ${keyed.length} idempotency records; ${unkeyed.length} orders without a key record, ${split.length} keys answered with different orders`,
      damage: [...sample(unkeyed).map((id) => `duplicate order: ${id}`), ...sample(split)],
    };
  },
  async 'replays-flagged'(ctx) {
    const retries = ctx.records.filter((r) => r.route === 'POST /v1/orders' && (r.attempt ?? 1) > 1);
    const unflagged = retries.filter((r) => (r.status === 201 || r.status === 200) && !r.replayed);
    const replayed = retries.filter((r) => r.replayed).length;
    const conflicts = retries.filter((r) => r.status === 409).length;
    return {
      ok: retries.length > 0 && unflagged.length === 0 && replayed > 0,
      inconclusive: retries.length === 0,
      detail: `${retries.length} retries with the same key: ${replayed} answered as replays (Idempotent-Replayed: true), ${conflicts} as 409 in flight, ${unflagged.length} as a fresh 201`,
      damage: sample(unflagged.map((r) => `key ${r.key} retry answered without the replay flag`)),
    };
  },
  async 'exactly-one-confirmed'(ctx) {
    const orders = await runOrders(ctx);
    const confirmed = orders.filter((o) => o.status === 'CONFIRMED');
    const sku = String(ctx.facts['lastItemSku'] ?? '');
    const [stock] = await ctx.sql('inventory', 'SELECT available FROM products WHERE sku = $1', [sku]);
    return {
      ok: confirmed.length === 1 && Number(stock?.['available']) === 0,
      detail: `${orders.length} buyers' orders: ${confirmed.length} CONFIRMED, ${orders.filter((o) => o.status === 'REJECTED').length} REJECTED; ${sku} stock now ${stock?.['available']}`,
      damage: confirmed.length > 1 ? sample(confirmed.map((o) => `oversold: ${o.id}`)) : [],
    };
  },
  async 'p99-during-fault'(ctx, spec) {
    const rs = ctx.records.filter((r) => r.route === spec.route && inWindow(ctx, r));
    const p99 = percentile(rs.map((r) => r.ms), 99);
    return { ok: rs.length > 0 && p99 <= (spec.maxMs ?? 0), inconclusive: rs.length === 0, detail: `p99 of ${rs.length} ${spec.route} during the fault: ${Math.round(p99)} ms (budget ${spec.maxMs} ms)` };
  },
  async 'fallback-served'(ctx) {
    const rs = ctx.records.filter((r) => r.route === 'GET /v1/recommendations' && inWindow(ctx, r, 1000));
    const fallback = rs.filter((r) => r.status === 200 && r.source === 'fallback').length;
    return { ok: rs.length > 0 && fallback >= rs.length * 0.95, inconclusive: rs.length === 0, detail: `${fallback} of ${rs.length} recommendations during the fault answered 200 from the fallback` };
  },
  async 'breaker-opened'(ctx, spec) {
    const text = await (await fetch(`${ctx.baseUrl}/metrics`)).text();
    const labels = { dependency: spec.dependency ?? '', to: 'open' };
    const opened = metricValue(text, 'circuit_breaker_transitions_total', labels) - metricValue(ctx.metricsBefore, 'circuit_breaker_transitions_total', labels);
    const rejected =
      metricValue(text, 'circuit_breaker_calls_total', { dependency: spec.dependency ?? '', outcome: 'rejected' }) -
      metricValue(ctx.metricsBefore, 'circuit_breaker_calls_total', { dependency: spec.dependency ?? '', outcome: 'rejected' });
    return { ok: opened >= 1, detail: `breaker ${spec.dependency}: opened ${opened} time(s), ${rejected} calls short-circuited (gateway /metrics)` };
  },
  async 'orders-db-load-not-amplified'(ctx, spec) {
    const { injectedAt, healedAt } = ctx.window;
    const s = ctx.dbSamples;
    const at = (t: number) => s.reduce((best, x) => (Math.abs(x.t - t) < Math.abs(best.t - t) ? x : best), s[0]);
    if (injectedAt === undefined || healedAt === undefined || s.length < 3) return { ok: false, inconclusive: true, detail: 'no database samples around the fault' };
    const first = s[0];
    const a = at(injectedAt);
    const b = at(healedAt);
    const rate = (x: typeof first, y: typeof first, key: 'xactCommit' | 'tupReturned') => ((y[key] - x[key]) * 1000) / Math.max(1, y.t - x.t);
    const text = await (await fetch(`${ctx.baseUrl}/metrics`)).text();
    const fallbacks = metricValue(text, 'fallbacks_total', { dependency: 'recommendations' }) - metricValue(ctx.metricsBefore, 'fallbacks_total', { dependency: 'recommendations' });
    const before = { xact: rate(first, a, 'xactCommit'), rows: rate(first, a, 'tupReturned') };
    const during = { xact: rate(a, b, 'xactCommit'), rows: rate(a, b, 'tupReturned') };
    const extraStatements = ((during.xact - before.xact) * (b.t - a.t)) / 1000;
    const perFallback = fallbacks > 0 ? extraStatements / fallbacks : 0;
    const pOrders = (inside: boolean) =>
      Math.round(percentile(ctx.records.filter((r) => r.route === 'POST /v1/orders' && inWindow(ctx, r) === inside).map((r) => r.ms), 99));
    return {
      ok: perFallback <= (spec.maxStatementsPerFallback ?? 0.5),
      detail: `orders db: ${before.xact.toFixed(1)} → ${during.xact.toFixed(1)} transactions/s, ${Math.round(before.rows)} → ${Math.round(during.rows)} rows read/s; ${fallbacks} fallbacks, ${perFallback.toFixed(2)} extra transactions per fallback (max ${spec.maxStatementsPerFallback ?? 0.5}); POST /v1/orders p99 ${pOrders(false)} ms outside vs ${pOrders(true)} ms during the fault`,
      damage: perFallback > (spec.maxStatementsPerFallback ?? 0.5) ? [`the fallback added ~${Math.round(extraStatements)} transactions and ${Math.round((during.rows - before.rows) * ((b.t - a.t) / 1000))} rows read on the orders database`] : [],
    };
  },
  async 'route-policy-during-fault'(ctx, spec) {
    const rs = ctx.records.filter((r) => r.route === spec.route && inWindow(ctx, r, 1500));
    const admitted = rs.filter((r) => r.status >= 200 && r.status < 300).length;
    const refused = rs.filter((r) => (r.status === 503 || r.status === 429) && r.retryAfter !== false).length;
    const ok = spec.expect === 'fail-open' ? admitted >= rs.length * 0.98 : refused >= rs.length * 0.9;
    const statuses = [...new Set(rs.map((r) => r.status))].map((s) => `${s}×${rs.filter((r) => r.status === s).length}`).join(' ');
    return { ok: rs.length > 0 && ok, inconclusive: rs.length === 0, detail: `${spec.route} during the outage (expected ${spec.expect}): ${statuses || 'no requests'}` };
  },
  async 'no-5xx-storm'(ctx) {
    const bad = ctx.records.filter((r) => r.status === 0 || r.status === 500 || r.status === 502 || r.status === 504);
    return { ok: bad.length === 0, detail: `${bad.length} of ${ctx.records.length} requests answered 500/502/504 or not at all`, damage: sample(bad.map((r) => `${r.route} +${(r.t / 1000).toFixed(1)} s ${r.status || r.error}`)) };
  },
  async 'recovered-after-heal'(ctx) {
    const healed = ctx.window.healedAt ?? Number.POSITIVE_INFINITY;
    const rs = ctx.records.filter((r) => r.t > healed + 3000);
    const ok = rs.filter((r) => r.status >= 200 && r.status < 300).length;
    return { ok: rs.length > 0 && ok >= rs.length * 0.98, inconclusive: rs.length === 0, detail: `${ok} of ${rs.length} requests sent from 3 s after heal answered 2xx` };
  },
  async 'dlq-received'(ctx, spec) {
    const eventId = String(ctx.facts['poisonEventId'] ?? '');
    const entries = await listDlq(kafkaBrokers(ctx.layout), DLQ_TOPICS);
    const entry = entries.find((e) => e.eventId === eventId);
    return { ok: Boolean(entry), detail: entry ? `event ${eventId} is on ${entry.id}: ${entry.error.message.slice(0, 120)}` : `event ${eventId} is not on ${spec.topic}` };
  },
  async 'queries-per-request'(ctx, spec) {
    const route = spec.route ?? 'GET /v1/orders';
    const all = ctx.records.filter((r) => r.route === route);
    const counted = all.filter((r) => r.status === 200 && r.queries !== undefined);
    const full = counted.filter((r) => (r.items ?? 0) > 0);
    const queries = full.map((r) => r.queries ?? 0);
    const max = spec.maxQueries ?? 2;
    const over = full.filter((r) => (r.queries ?? 0) > max);
    const median = percentile(queries, 50);
    const items = percentile(full.map((r) => r.items ?? 0), 50);
    const p99 = (inside: boolean) => Math.round(percentile(all.filter((r) => inWindow(ctx, r) === inside).map((r) => r.ms), 99));
    const total = queries.reduce((a, b) => a + b, 0);
    const failed = all.filter(isError);
    const statuses = (rs: RequestRecord[]) => [...new Set(rs.map((r) => r.status || 'no answer'))].map((s) => `${s}×${rs.filter((r) => (r.status || 'no answer') === s).length}`).join(', ');
    return {
      ok: full.length > 0 && over.length === 0,
      // Empty pages cost one query whatever the variant: they cannot tell batched from naive.
      inconclusive: full.length === 0,
      detail:
        `${full.length} of ${all.length} ${route} answered a page of orders (median ${items} orders; ${failed.length} answered 5xx or not at all): median ${median} SQL queries per request, ` +
        `max ${Math.max(0, ...queries)} (budget ${max}; X-Query-Count), ${total} queries in all; p99 ${p99(true)} ms during the fault` +
        // Outside the fault only when there is enough of it for a p99 to mean something (n-plus-one holds it throughout).
        (all.filter((r) => !inWindow(ctx, r)).length >= 10 ? `, ${p99(false)} ms outside` : ''),
      damage: over.length
        ? [
            `${over.length} of ${full.length} requests issued more than ${max} queries: median ${median} per page of ${items} orders, one round trip per order for its customer's name (N+1)`,
            `${total - max * full.length} extra queries on the orders database; each pays the edge's latency, so the p99 of ${route} was ${p99(true)} ms during the fault`,
            ...(failed.length ? [`${failed.length} of ${all.length} ${route} failed (${statuses(failed)}): a 504 is a page that outlasted the gateway's deadline to orders`] : []),
          ]
        : [],
    };
  },
  async 'trace-no-span-during-open'(ctx, spec) {
    const { injectedAt, healedAt } = ctx.window;
    if (injectedAt === undefined || healedAt === undefined) return { ok: false, inconclusive: true, detail: 'no fault window' };
    const gatewayService = String(ctx.facts['gatewayService'] ?? 'gateway');
    const dependency = spec.dependency ?? 'recommendations';
    const routeName = spec.route ?? 'GET /v1/recommendations';
    const route = routeName.split(' ')[1];
    const from = ctx.loadStartedAt + injectedAt;
    const to = ctx.loadStartedAt + healedAt;
    const expected = ctx.records.filter((r) => r.route === routeName && inWindow(ctx, r)).length;
    // A process exports its spans in the order they ended: once one that ended 2.5 s after the window is stored, every
    // request of the window (bounded by the gateway's deadlines) is too.
    const arrived = (all: StoredSpan[]) =>
      all.some((x) => x.service === gatewayService && Number(BigInt(x.endUnixNano) / 1_000_000n) >= to + 2500) ||
      breakerOpenTraces(all, { gatewayService, route, dependency, from, to }).requests >= expected;
    const spans = await spansWhen(ctx, arrived);
    const f = breakerOpenTraces(spans, { gatewayService, route, dependency, from, to });
    const openS = f.periods.reduce((sum, p) => sum + (p.to - p.from), 0) / 1000;
    return {
      ok: f.periods.length > 0 && f.callsWhileOpen.length === 0,
      inconclusive: f.requests === 0,
      detail:
        `${f.requests} ${gatewayService} ${route} traces during the fault (of ${expected} requests sent): ${f.rejected} short-circuited by the breaker in ${f.periods.length} open period(s) ` +
        `totalling ${openS.toFixed(1)} s; ${f.callsWhileOpen.length} gRPC calls to ${dependency} started while it was open, ${f.callsOutside} outside (before it opened, half-open trials)`,
      damage: [
        ...(f.periods.length === 0 ? [`no trace shows the breaker to ${dependency} open (no breaker.rejected event)`] : []),
        ...sample(f.callsWhileOpen.map((s) => `trace ${s.traceId}: ${s.name} started at ${new Date(Number(BigInt(s.startUnixNano) / 1_000_000n)).toISOString()} while the breaker was open`)),
      ],
    };
  },
  async 'trace-continues'(ctx, spec) {
    const services = spec.services ?? ['gateway', 'orders', 'outbox-relay-orders', 'inventory', 'notifications'];
    // The orders accepted from the last kill on (or the fault's start): their events crossed the fault and were carried
    // by the process that survives the run (for relay-crash, the restarted relay). Spans a SIGKILLed process had not
    // exported yet die with it, so orders it relayed before an earlier kill prove nothing either way.
    const lastKillAt = ctx.facts['lastKillAt'];
    const from = typeof lastKillAt === 'number' ? lastKillAt : ctx.window.injectedAt;
    if (from === undefined) return { ok: false, inconclusive: true, detail: 'no fault window' };
    const ids = [...new Set(ctx.records.filter((r) => r.orderId && r.t >= from).map((r) => r.orderId as string))];
    if (ids.length === 0) return { ok: false, inconclusive: true, detail: 'no order was accepted from the last kill on' };
    const spans = await spansWhen(ctx, (all) => !orderTraceHops(all, ids, services).some(traceIsBroken), 30_000);
    const findings = orderTraceHops(spans, ids, services);
    const broken = findings.filter(traceIsBroken);
    if (findings.every((f) => f.traces === 0)) return { ok: false, inconclusive: true, detail: `the trace store holds no span of the ${ids.length} orders accepted from then on (LAB_TRACES=off?)` };
    return {
      ok: broken.length === 0,
      detail: `${findings.length - broken.length} of ${findings.length} orders accepted from ${typeof lastKillAt === 'number' ? 'the last kill' : 'the fault'} on are ONE trace through ${services.join(' → ')}; ${broken.length} broken`,
      damage: sample(broken.map((f) => `order ${f.orderId}: ${f.traces === 1 ? `no span of ${f.missing.join(', ')} in its trace` : `${f.traces} traces`} (seen: ${f.services.join(', ') || 'nothing'})`)),
    };
  },
  async 'lock-wait'(ctx, spec) {
    const migration = ctx.facts['migration'] as { watch: WatchSummary; relayLagP99Ms: number | null } | undefined;
    if (!migration) return { ok: false, inconclusive: true, detail: 'no migration ran, so no lock waits were sampled' };
    const w = migration.watch;
    const max = spec.maxMs ?? w.budgetMs;
    const over = w.worstWaits.filter((x) => x.ms > max);
    return {
      ok: w.longestLockWaitMs <= max,
      detail:
        `longest lock wait in the orders database ${w.longestLockWaitMs} ms (the application's: ${w.longestApplicationWaitMs} ms; budget ${max} ms), ` +
        `${w.samples} samples every ${w.intervalMs} ms; replication slot lag up to ${Math.round(w.maxSlotLagBytes / 1024)} KiB, relay lag p99 ${migration.relayLagP99Ms ?? 'n/a'} ms`,
      damage: over.map((x) => `${x.ms} ms: ${x.app || '?'} waited for ${x.mode} during ${x.step}: ${x.query.slice(0, 100)}`),
    };
  },
};

/** How a check is named in journals and reports: its kind, and the route it is about. */
export const checkName = (spec: VerdictCheckSpec) => spec.check + (spec.route ? ` (${spec.route})` : '');

/** Runs one evaluator; one that throws makes its check inconclusive, never a pass or a failure. */
export async function settleCheck(spec: VerdictCheckSpec, evaluation: () => Promise<Omit<CheckResult, 'check'>>): Promise<CheckResult> {
  try {
    return { check: checkName(spec), ...(await evaluation()) };
  } catch (error) {
    return { check: checkName(spec), ok: false, inconclusive: true, detail: `could not evaluate: ${(error as Error).message}` };
  }
}

export async function evaluate(ctx: CheckContext, specs: VerdictCheckSpec[]): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const spec of specs) {
    const evaluator = EVALUATORS[spec.check];
    if (!evaluator) results.push({ check: checkName(spec), ok: false, inconclusive: true, detail: 'not implemented on the local target yet' });
    else results.push(await settleCheck(spec, () => evaluator(ctx, spec)));
  }
  return results;
}
