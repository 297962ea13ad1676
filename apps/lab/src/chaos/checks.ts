// Verdict checks: pure evaluators over a run's evidence (evidence.ts), each returning what it judged. Every
// evaluator names its population (the orders, requests, SKUs or messages it looked at) and `settleCheck` turns an
// empty population, a missing source or a window that did not happen into INCONCLUSIVE, in this one place, so no
// check can pass on nothing. When a check fails, its damage names the ids.
import type { WatchSummary } from '../migrate/migration-watch';
import type { StoredSpan } from '../tracing/otlp-receiver';
import type { DbSample, FaultWindow, RunEvidence } from './evidence';
import { QUERIES, rangeSince, single } from './prometheus-queries';
import type { VerdictCheckSpec } from './experiment-schema';
import { asOfHonest, eventualReadConverges, readYourWrites } from './consistency-checks';
import { internalPortsClosed, noUnauthorizedRead, noUnauthorizedWrite, refusalsProblemJson } from './auth-checks';
import { checkPipeline, checkStock, orderHistory, PIPELINE_STAGES } from './history';
import { percentile, RequestRecord } from '@faultline/load';
import { breakerOpenTraces, orderTraceHops, traceIsBroken } from './trace-checks';
import type { CheckResult, Judgement } from './judgement';

export type { CheckResult, Judgement } from './judgement';

type Evaluator = (ev: RunEvidence, spec: VerdictCheckSpec) => Promise<Judgement>;

const isError = (r: RequestRecord) => r.status === 0 || r.status >= 500;
const hasWindow = (w: FaultWindow): w is Required<FaultWindow> =>
  w.injectedAt !== undefined && w.healedAt !== undefined;
const inWindow = (w: FaultWindow, r: RequestRecord, graceMs = 0) =>
  hasWindow(w) && r.t >= w.injectedAt + graceMs && r.t <= w.healedAt;
const sample = (ids: string[], n = 10) => (ids.length > n ? [...ids.slice(0, n), `… and ${ids.length - n} more`] : ids);
const NO_WINDOW: Judgement = { unavailable: 'the fault window did not happen (no injection and heal recorded)' };
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

const EVALUATORS: Record<VerdictCheckSpec['check'], Evaluator> = {
  async 'all-orders-final'(ev) {
    const orders = await ev.orders();
    const pending = orders.filter((o) => o.status === 'PENDING').map((o) => o.id);
    const accepted = new Set(ev.records.filter((r) => r.orderId).map((r) => r.orderId as string));
    const missing = [...accepted].filter((id) => !orders.some((o) => o.id === id));
    const by = (s: string) => orders.filter((o) => o.status === s).length;
    return {
      population: new Set([...orders.map((o) => o.id), ...accepted]).size,
      of: 'orders of the run (orders database, and ids answered with 201)',
      ok: pending.length === 0 && missing.length === 0,
      detail: `${orders.length} orders in the orders db (${by('CONFIRMED')} CONFIRMED, ${by('REJECTED')} REJECTED, ${pending.length} PENDING); ${accepted.size} accepted with 201; ${missing.length} accepted but missing`,
      damage: [
        ...sample(pending).map((id) => `stuck PENDING (its event was lost): ${id}`),
        ...sample(missing).map((id) => `accepted but not in the db: ${id}`),
      ],
    };
  },

  async 'one-delivery-per-order'(ev) {
    const final = (await ev.orders()).filter((o) => o.status !== 'PENDING');
    const deliveries = await ev.deliveries();
    const rows = new Map((await ev.notifications()).map((n) => [n.orderId, n.kind]));
    const count = new Map<string, number>();
    for (const d of deliveries) count.set(d.orderId, (count.get(d.orderId) ?? 0) + 1);
    const kindOf = (status: string) => `ORDER_${status}`;
    const missing = final.filter((o) => !count.has(o.id)).map((o) => o.id);
    const duplicated = final
      .filter((o) => (count.get(o.id) ?? 0) > 1)
      .map((o) => `${o.id} (${count.get(o.id)} deliveries)`);
    const wrong = final
      .filter(
        (o) =>
          deliveries.some((d) => d.orderId === o.id && d.kind !== kindOf(o.status)) ||
          (rows.has(o.id) && rows.get(o.id) !== kindOf(o.status)),
      )
      .map((o) => o.id);
    const noRow = final.filter((o) => count.has(o.id) && !rows.has(o.id)).map((o) => o.id);
    return {
      population: final.length,
      of: 'final orders of the run',
      ok: missing.length + duplicated.length + wrong.length + noRow.length === 0,
      detail: `${final.length} final orders, ${deliveries.length} deliveries (the deliveries log: one row per send, no unique key): ${missing.length} orders never notified, ${duplicated.length} notified more than once, ${wrong.length} with the wrong kind, ${noRow.length} delivered without a notification row`,
      damage: [
        ...sample(missing).map((id) => `never notified: ${id}`),
        ...sample(duplicated).map((id) => `notified more than once: ${id}`),
        ...sample(wrong).map((id) => `notified with a kind that is not its outcome: ${id}`),
        ...sample(noRow).map((id) => `delivered, no notification row: ${id}`),
      ],
    };
  },

  async 'redeliveries-absorbed'(ev) {
    const bus = await ev.bus();
    if (!bus) return { unavailable: 'the run did not read orders.events (no start offsets on this target)' };
    const runIds = new Set((await ev.orders()).map((o) => o.id));
    const times = (types: string[]) => {
      const seen = new Map<string, Map<string, number>>();
      for (const m of bus) {
        if (m.topic !== 'orders.events' || !types.includes(m.type ?? '') || !m.key || !m.eventId || !runIds.has(m.key))
          continue;
        const events = seen.get(m.key) ?? new Map<string, number>();
        events.set(m.eventId, (events.get(m.eventId) ?? 0) + 1);
        seen.set(m.key, events);
      }
      return [...seen].filter(([, events]) => [...events.values()].some((n) => n > 1)).map(([id]) => id);
    };
    const redelivered = times(['OrderConfirmed', 'OrderRejected']);
    const placedAgain = times(['OrderPlaced']).length;
    const deliveries = await ev.deliveries();
    const sent = (id: string) => deliveries.filter((d) => d.orderId === id).length;
    const twice = redelivered.filter((id) => sent(id) > 1);
    const never = redelivered.filter((id) => sent(id) === 0);
    return {
      population: redelivered.length,
      of: 'orders whose outcome event Kafka delivered more than once (the dedup path, exercised)',
      ok: twice.length === 0 && never.length === 0,
      detail: `${redelivered.length} orders' outcome event was on orders.events more than once since the run's start offsets (and ${placedAgain} orders' OrderPlaced): ${redelivered.length - twice.length - never.length} sent once, ${twice.length} sent again, ${never.length} never sent`,
      damage: [
        ...sample(twice).map((id) => `redelivered and sent again (no dedup): ${id} (${sent(id)} deliveries)`),
        ...sample(never).map((id) => `redelivered, never sent: ${id}`),
      ],
    };
  },

  async 'stock-conservation'(ev) {
    const book = await ev.stock();
    if (!book) return { unavailable: 'the stock was not read before the load' };
    const f = checkStock(book, await ev.orders(), await ev.reservations());
    const line = (s: (typeof f.skus)[number]) =>
      `${s.sku}: ${s.start} at the start − ${s.confirmed} CONFIRMED = ${s.start - s.confirmed}, ${s.end} at the end, ${s.reserved} reserved` +
      (s.confirmed > s.start ? `: OVERSOLD by ${s.confirmed - s.start}` : '') +
      `; CONFIRMED orders: ${sample(s.confirmedOrders, 5).join(', ') || 'none'}`;
    const bad = [...new Set([...f.notConserved, ...f.oversold, ...f.negative])];
    return {
      population: f.skus.length,
      of: "SKUs the run's orders touched",
      ok: bad.length === 0 && f.disagreeing.length === 0,
      detail: `${f.skus.length} SKUs (${f.skus.reduce((n, s) => n + s.confirmed, 0)} units CONFIRMED in the orders db): ${f.notConserved.length} not conserved (start − confirmed ≠ end, or reservations ≠ confirmed), ${f.oversold.length} oversold, ${f.negative.length} below 0; ${f.disagreeing.length} orders whose status and reservation disagree`,
      damage: [...bad.map(line), ...sample(f.disagreeing).map((id) => `final status and reservation disagree: ${id}`)],
    };
  },

  async 'client-error-ratio'(ev, spec) {
    if (!hasWindow(ev.window)) return NO_WINDOW;
    const rs = ev.records.filter((r) => r.route === spec.route && inWindow(ev.window, r));
    const errors = rs.filter(isError);
    const ratio = rs.length ? errors.length / rs.length : 0;
    const max = spec.max ?? 0;
    const healedAt = ev.window.healedAt;
    const after = ev.records.filter((r) => r.route === spec.route && r.t > healedAt);
    return {
      population: rs.length,
      of: `${spec.route} requests sent during the fault`,
      ok: ratio <= max,
      detail: `${errors.length} of ${rs.length} ${spec.route} sent during the fault answered 5xx or not at all (${pct(ratio)}, max ${pct(max)}); after heal ${after.filter(isError).length} of ${after.length}`,
      damage: sample(errors.map((r) => `+${(r.t / 1000).toFixed(1)} s ${r.status || r.error}`)),
    };
  },

  async 'orders-accepted-during-fault'(ev, spec) {
    if (!hasWindow(ev.window)) return NO_WINDOW;
    const rs = ev.records.filter((r) => r.route === 'POST /v1/orders' && inWindow(ev.window, r));
    const accepted = rs.filter((r) => r.status === 201).length;
    const max = spec.max ?? 0.02;
    return {
      population: rs.length,
      of: 'orders sent during the fault',
      ok: accepted >= rs.length * (1 - max),
      detail: `${accepted} of ${rs.length} orders sent during the fault were accepted (201); at most ${(max * 100).toFixed(0)} % may be refused`,
    };
  },

  async 'one-order-per-key'(ev) {
    const orders = await ev.orders();
    const keyed = await ev.keys();
    const keyedIds = new Set(keyed.map((k) => k.orderId));
    const unkeyed = orders.filter((o) => !keyedIds.has(o.id)).map((o) => o.id);
    const answers = new Map<string, Set<string>>();
    for (const r of ev.records)
      if (r.key && r.orderId) answers.set(r.key, (answers.get(r.key) ?? new Set()).add(r.orderId));
    const split = [...answers]
      .filter(([, ids]) => ids.size > 1)
      .map(([key, ids]) => `key ${key} answered with ${[...ids].join(', ')}`);
    const keys = new Set(ev.records.filter((r) => r.key).map((r) => r.key));
    return {
      population: keys.size,
      of: 'Idempotency-Keys sent',
      ok: unkeyed.length === 0 && split.length === 0 && orders.length <= keys.size,
      detail: `${keys.size} keys sent, ${orders.length} orders created, ${keyed.length} idempotency records; ${unkeyed.length} orders without a key record, ${split.length} keys answered with different orders`,
      damage: [...sample(unkeyed).map((id) => `duplicate order: ${id}`), ...sample(split)],
    };
  },

  async 'replays-flagged'(ev) {
    const retries = ev.records.filter((r) => r.route === 'POST /v1/orders' && (r.attempt ?? 1) > 1);
    const unflagged = retries.filter((r) => (r.status === 201 || r.status === 200) && !r.replayed);
    const replayed = retries.filter((r) => r.replayed).length;
    const conflicts = retries.filter((r) => r.status === 409).length;
    return {
      population: retries.length,
      of: 'retries with the same key',
      ok: unflagged.length === 0 && replayed > 0,
      detail: `${retries.length} retries with the same key: ${replayed} answered as replays (Idempotent-Replayed: true), ${conflicts} as 409 in flight, ${unflagged.length} as a fresh 201`,
      damage: [
        ...sample(unflagged.map((r) => `key ${r.key} retry answered without the replay flag`)),
        ...(replayed === 0 ? ['no retry was answered as a replay'] : []),
      ],
    };
  },

  async 'exactly-one-confirmed'(ev) {
    const orders = await ev.orders();
    const by = (s: string) => orders.filter((o) => o.status === s);
    const confirmed = by('CONFIRMED');
    const others = orders.filter((o) => o.status !== 'CONFIRMED' && o.status !== 'REJECTED');
    return {
      population: orders.length,
      of: "the buyers' orders",
      ok: confirmed.length === 1 && by('REJECTED').length === orders.length - 1,
      detail: `${orders.length} buyers' orders for ${String(ev.facts['lastItemSku'] ?? '?')}: ${confirmed.length} CONFIRMED, ${by('REJECTED').length} REJECTED, ${others.length} neither`,
      damage: [
        ...(confirmed.length > 1 ? sample(confirmed.map((o) => `CONFIRMED beyond the one unit: ${o.id}`)) : []),
        ...(confirmed.length === 0 ? ['nobody got the last item'] : []),
        ...sample(others.map((o) => `${o.status}: ${o.id}`)),
      ],
    };
  },

  async 'p99-during-fault'(ev, spec) {
    if (!hasWindow(ev.window)) return NO_WINDOW;
    const rs = ev.records.filter((r) => r.route === spec.route && inWindow(ev.window, r));
    const p99 = percentile(
      rs.map((r) => r.ms),
      99,
    );
    return {
      population: rs.length,
      of: `${spec.route} requests sent during the fault`,
      ok: p99 <= (spec.maxMs ?? 0),
      detail: `p99 of ${rs.length} ${spec.route} during the fault: ${Math.round(p99)} ms (budget ${spec.maxMs} ms)`,
    };
  },

  async 'fallback-served'(ev) {
    if (!hasWindow(ev.window)) return NO_WINDOW;
    const rs = ev.records.filter((r) => r.route === 'GET /v1/recommendations' && inWindow(ev.window, r, 1000));
    const fallback = rs.filter((r) => r.status === 200 && r.source === 'fallback').length;
    return {
      population: rs.length,
      of: 'recommendations requested during the fault',
      ok: fallback >= rs.length * 0.95,
      detail: `${fallback} of ${rs.length} recommendations during the fault answered 200 from the fallback`,
    };
  },

  async 'breaker-opened'(ev, spec) {
    if (!hasWindow(ev.window)) return NO_WINDOW;
    const edge = ev.edge;
    if (!edge || edge.samples.length < 2)
      return { unavailable: 'no traffic samples of the faulted edge (the breaker is judged by what the proxy saw)' };
    const { injectedAt, healedAt } = ev.window;
    const route = spec.route ?? 'GET /v1/recommendations';
    // The longest stretch of the fault in which the gateway sent the dependency nothing while requests kept coming.
    const samples = edge.samples.filter((s) => s.t >= injectedAt && s.t <= healedAt);
    let best = { from: 0, to: 0 };
    for (let i = 0, start = 0; i < samples.length; i++) {
      if (samples[i].bytesUpstream !== samples[start].bytesUpstream) start = i;
      if (samples[i].t - samples[start].t > best.to - best.from) best = { from: samples[start].t, to: samples[i].t };
    }
    const rs = ev.records.filter((r) => r.route === route && inWindow(ev.window, r));
    const during = rs.filter((r) => r.t > best.from && r.t < best.to).length;
    const minQuietMs = spec.minQuietMs ?? 1000;
    const ok = best.to - best.from >= minQuietMs && during >= 2;
    return {
      population: rs.length,
      of: `${route} requests sent during the fault`,
      ok,
      detail: `the gateway sent nothing to ${spec.dependency} over ${edge.edge} for ${((best.to - best.from) / 1000).toFixed(1)} s of the fault (+${(best.from / 1000).toFixed(1)} → +${(best.to / 1000).toFixed(1)} s, the fault proxy's byte count) while ${during} ${route} were answered: the breaker short-circuited them (at least ${minQuietMs} ms needed)`,
      damage: ok
        ? []
        : [
            `no quiet stretch of ${minQuietMs} ms on ${edge.edge} during the fault: every request still went to ${spec.dependency}`,
          ],
    };
  },

  async 'orders-db-load-not-amplified'(ev, spec) {
    if (!hasWindow(ev.window)) return NO_WINDOW;
    const { injectedAt, healedAt } = ev.window;
    const s = ev.dbSamples;
    if (s.length < 3) return { unavailable: 'fewer than 3 samples of the orders database around the fault' };
    const at = (t: number) => s.reduce((best, x) => (Math.abs(x.t - t) < Math.abs(best.t - t) ? x : best), s[0]);
    const first = s[0];
    const a = at(injectedAt);
    const b = at(healedAt);
    const rate = (x: typeof first, y: typeof first, key: 'xactCommit' | 'tupReturned') =>
      ((y[key] - x[key]) * 1000) / Math.max(1, y.t - x.t);
    // The fallbacks the client saw (source: fallback), not the gateway's own count of them.
    const fallbacks = ev.records.filter(
      (r) => r.route === 'GET /v1/recommendations' && inWindow(ev.window, r) && r.source === 'fallback',
    ).length;
    const before = { xact: rate(first, a, 'xactCommit'), rows: rate(first, a, 'tupReturned') };
    const during = { xact: rate(a, b, 'xactCommit'), rows: rate(a, b, 'tupReturned') };
    const seconds = (b.t - a.t) / 1000;
    const extraTransactions = (during.xact - before.xact) * seconds;
    const extraRows = (during.rows - before.rows) * seconds;
    // Rows read is what an aggregate costs the shared database; transactions alone are too few to rise above the noise.
    const rowsPerFallback = fallbacks > 0 ? extraRows / fallbacks : 0;
    const max = spec.maxRowsPerFallback ?? 100;
    const pOrders = (inside: boolean) =>
      Math.round(
        percentile(
          ev.records.filter((r) => r.route === 'POST /v1/orders' && inWindow(ev.window, r) === inside).map((r) => r.ms),
          99,
        ),
      );
    return {
      population: fallbacks,
      of: 'fallback answers during the fault',
      ok: rowsPerFallback <= max,
      detail: `orders db (pg_stat_database): ${before.xact.toFixed(1)} → ${during.xact.toFixed(1)} transactions/s, ${Math.round(before.rows)} → ${Math.round(during.rows)} rows read/s; ${fallbacks} fallback answers, ${Math.round(rowsPerFallback)} extra rows read per fallback (max ${max}); POST /v1/orders p99 ${pOrders(false)} ms outside vs ${pOrders(true)} ms during the fault`,
      damage:
        rowsPerFallback > max
          ? [
              `the fallbacks added ~${Math.round(extraRows)} rows read and ~${Math.round(extraTransactions)} transactions on the orders database the order path shares`,
            ]
          : [],
    };
  },

  async 'route-policy-during-fault'(ev, spec) {
    if (!hasWindow(ev.window)) return NO_WINDOW;
    const rs = ev.records.filter((r) => r.route === spec.route && inWindow(ev.window, r, 1500));
    const admitted = rs.filter((r) => r.status >= 200 && r.status < 300).length;
    const refused = rs.filter((r) => (r.status === 503 || r.status === 429) && r.retryAfter !== false).length;
    const statuses = [...new Set(rs.map((r) => r.status))]
      .map((st) => `${st}×${rs.filter((r) => r.status === st).length}`)
      .join(' ');
    return {
      population: rs.length,
      of: `${spec.route} requests sent during the outage`,
      ok: spec.expect === 'fail-open' ? admitted >= rs.length * 0.98 : refused >= rs.length * 0.9,
      detail: `${spec.route} during the outage (expected ${spec.expect}): ${statuses || 'no requests'}`,
    };
  },

  async 'no-5xx-storm'(ev) {
    const bad = ev.records.filter((r) => r.status === 0 || r.status === 500 || r.status === 502 || r.status === 504);
    return {
      population: ev.records.length,
      of: 'requests of the run',
      ok: bad.length === 0,
      detail: `${bad.length} of ${ev.records.length} requests answered 500/502/504 or not at all`,
      damage: sample(bad.map((r) => `${r.route} +${(r.t / 1000).toFixed(1)} s ${r.status || r.error}`)),
    };
  },

  async 'recovered-after-heal'(ev, spec) {
    if (!hasWindow(ev.window)) return NO_WINDOW;
    const graceMs = spec.graceMs ?? 3000;
    const rs = ev.records.filter((r) => r.t > (ev.window.healedAt ?? 0) + graceMs);
    const ok = rs.filter((r) => r.status >= 200 && r.status < 300).length;
    const of = `requests sent from ${graceMs / 1000} s after heal`;
    return {
      population: rs.length,
      of,
      ok: ok >= rs.length * 0.98,
      detail: `${ok} of ${rs.length} ${of} answered 2xx`,
    };
  },

  async 'dlq-received'(ev, spec) {
    const poisons = (ev.facts['poisons'] as Poison[] | undefined) ?? [];
    if (poisons.length === 0) return { unavailable: 'no poison message was published in this run' };
    const entries = await ev.dlq();
    if (!entries) return { unavailable: `${spec.topic} could not be read` };
    const findings = poisons.map((p) => {
      const entry = entries.find((e) => e.eventId === p.eventId);
      if (!entry) return { p, problem: `event ${p.eventId} (${p.kind}) is not on ${spec.topic}` };
      const blockedMs = Date.parse(entry.timestamp) - p.publishedAt;
      const problems = [
        entry.error.kind !== p.kind ? `dead-lettered as ${entry.error.kind}, expected ${p.kind}` : '',
        p.kind === 'handler' && entry.error.attempts !== spec.attempts
          ? `after ${entry.error.attempts} attempts, expected ${spec.attempts}`
          : '',
        p.kind === 'handler' && spec.maxBlockedMs !== undefined && blockedMs > spec.maxBlockedMs
          ? `its partition was blocked ${blockedMs} ms, more than ${spec.maxBlockedMs} ms`
          : '',
      ].filter(Boolean);
      const seen = `${p.kind} poison ${p.eventId} on ${entry.id} after ${entry.error.attempts ?? 0} attempts, ${blockedMs} ms after it was published (record timestamps): ${entry.error.message.slice(0, 80)}`;
      return { p, seen, problem: problems.length ? `event ${p.eventId}: ${problems.join('; ')}` : undefined };
    });
    const bad = findings.filter((f) => f.problem);
    return {
      population: poisons.length,
      of: 'poison messages published',
      ok: bad.length === 0,
      detail: findings.map((f) => f.seen ?? f.problem).join('; '),
      damage: bad.map((f) => f.problem as string),
    };
  },

  async 'queries-per-request'(ev, spec) {
    const route = spec.route ?? 'GET /v1/orders';
    const all = ev.records.filter((r) => r.route === route);
    const answered = all.filter((r) => r.status === 200);
    const full = answered.filter((r) => (r.items ?? 0) > 0);
    const wire = ev.edge?.statements;
    if (!wire)
      return {
        unavailable: `no count of the statements the orders database ran (the proxy, or pg_stat_statements on kind, counts what ${route} really asked Postgres)`,
      };
    const loadMs = Math.max(0, ...all.map((r) => r.t + r.ms));
    const idle = (wire.idleRatePerS * loadMs) / 1000;
    const statements = wire.atLoadEnd - wire.atLoadStart - idle;
    const perPage = answered.length ? statements / answered.length : 0;
    const max = spec.maxQueries ?? 2;
    const claimed = percentile(
      full.map((r) => r.queries ?? 0),
      50,
    );
    const items = percentile(
      full.map((r) => r.items ?? 0),
      50,
    );
    const p99 = (inside: boolean) =>
      Math.round(
        percentile(
          all.filter((r) => inWindow(ev.window, r) === inside).map((r) => r.ms),
          99,
        ),
      );
    const failed = all.filter(isError);
    const statuses = (rs: RequestRecord[]) =>
      [...new Set(rs.map((r) => r.status || 'no answer'))]
        .map((st) => `${st}×${rs.filter((r) => (r.status || 'no answer') === st).length}`)
        .join(', ');
    const ok = Math.round(perPage) <= max;
    return {
      // Empty pages cost one query whatever the variant: they cannot tell batched from naive.
      population: full.length,
      of: `${route} answered with a page of orders`,
      ok,
      detail:
        `${full.length} of ${all.length} ${route} answered a page of orders (median ${items} orders; ${failed.length} answered 5xx or not at all): ` +
        `${perPage.toFixed(1)} SQL statements per request on the wire (${Math.round(statements)} counted by ${wire.countedBy ?? 'the proxy'}, ${Math.round(idle)} background subtracted; budget ${max}); the service's own X-Query-Count says ${claimed}` +
        `; p99 ${p99(true)} ms during the fault` +
        (all.filter((r) => !inWindow(ev.window, r)).length >= 10 ? `, ${p99(false)} ms outside` : ''),
      damage: ok
        ? []
        : [
            `${perPage.toFixed(1)} statements per page of ${items} orders instead of at most ${max}: one round trip per order for its customer's name (N+1)`,
            `${Math.round(statements - max * answered.length)} extra statements on the orders database; each pays the edge's latency, so the p99 of ${route} was ${p99(true)} ms during the fault`,
            ...(failed.length
              ? [
                  `${failed.length} of ${all.length} ${route} failed (${statuses(failed)}): a 504 is a page that outlasted the gateway's deadline to orders`,
                ]
              : []),
          ],
    };
  },

  async 'trace-no-span-during-open'(ev, spec) {
    if (!hasWindow(ev.window)) return NO_WINDOW;
    const { injectedAt, healedAt } = ev.window;
    const gatewayService = String(ev.facts['gatewayService'] ?? 'gateway');
    const dependency = spec.dependency ?? 'recommendations';
    const routeName = spec.route ?? 'GET /v1/recommendations';
    const route = routeName.split(' ')[1];
    const from = ev.loadStartedAt + injectedAt;
    const to = ev.loadStartedAt + healedAt;
    const expected = ev.records.filter((r) => r.route === routeName && inWindow(ev.window, r)).length;
    // A process exports its spans in the order they ended: once one that ended 2.5 s after the window is stored, every
    // request of the window (bounded by the gateway's deadlines) is too.
    const arrived = (all: StoredSpan[]) =>
      all.some((x) => x.service === gatewayService && Number(BigInt(x.endUnixNano) / 1_000_000n) >= to + 2500) ||
      breakerOpenTraces(all, { gatewayService, route, dependency, from, to }).requests >= expected;
    const spans = await ev.spans(arrived, 20_000);
    if (!spans) return { unavailable: 'no trace store on this target' };
    const f = breakerOpenTraces(spans, { gatewayService, route, dependency, from, to });
    if (f.callsWhileOpen.length + f.callsOutside === 0)
      return {
        unavailable: `no gRPC client span from ${gatewayService} to ${dependency} during the fault: the traces cannot show calls either way`,
      };
    const openS = f.periods.reduce((sum, p) => sum + (p.to - p.from), 0) / 1000;
    return {
      population: f.requests,
      of: `${gatewayService} ${route} traces during the fault`,
      ok: f.periods.length > 0 && f.callsWhileOpen.length === 0,
      detail:
        `${f.requests} ${gatewayService} ${route} traces during the fault (of ${expected} requests sent): ${f.rejected} short-circuited by the breaker in ${f.periods.length} open period(s) ` +
        `totalling ${openS.toFixed(1)} s; ${f.callsWhileOpen.length} gRPC calls to ${dependency} started while it was open, ${f.callsOutside} outside (before it opened, half-open trials)`,
      damage: [
        ...(f.periods.length === 0
          ? [`no trace shows the breaker to ${dependency} open (no breaker.rejected event)`]
          : []),
        ...sample(
          f.callsWhileOpen.map(
            (s) =>
              `trace ${s.traceId}: ${s.name} started at ${new Date(Number(BigInt(s.startUnixNano) / 1_000_000n)).toISOString()} while the breaker was open`,
          ),
        ),
      ],
    };
  },

  async 'trace-continues'(ev, spec) {
    const services = spec.services ?? ['gateway', 'orders', 'outbox-relay-orders', 'inventory', 'notifications'];
    // The orders accepted from the last kill on (or the fault's start): their events crossed the fault and were carried
    // by the process that survives the run (for relay-crash, the restarted relay). Spans a SIGKILLed process had not
    // exported yet die with it, so orders it relayed before an earlier kill prove nothing either way.
    const lastKillAt = ev.facts['lastKillAt'];
    const from = typeof lastKillAt === 'number' ? lastKillAt : ev.window.injectedAt;
    if (from === undefined) return NO_WINDOW;
    const ids = [...new Set(ev.records.filter((r) => r.orderId && r.t >= from).map((r) => r.orderId as string))];
    const spans = ids.length
      ? await ev.spans((all) => !orderTraceHops(all, ids, services).some(traceIsBroken), 30_000)
      : [];
    if (!spans) return { unavailable: 'no trace store on this target' };
    const findings = orderTraceHops(spans, ids, services);
    if (ids.length && findings.every((f) => f.traces === 0))
      return {
        unavailable: `the trace store holds no span of the ${ids.length} orders accepted from then on (LAB_TRACES=off?)`,
      };
    const broken = findings.filter(traceIsBroken);
    return {
      population: ids.length,
      of: `orders accepted from ${typeof lastKillAt === 'number' ? 'the last kill' : 'the fault'} on`,
      ok: broken.length === 0,
      detail: `${findings.length - broken.length} of ${findings.length} orders accepted from ${typeof lastKillAt === 'number' ? 'the last kill' : 'the fault'} on are ONE trace through ${services.join(' → ')}; ${broken.length} broken`,
      damage: sample(
        broken.map(
          (f) =>
            `order ${f.orderId}: ${f.traces === 1 ? `no span of ${f.missing.join(', ')} in its trace` : `${f.traces} traces`} (seen: ${f.services.join(', ') || 'nothing'})`,
        ),
      ),
    };
  },

  async 'fast-refusals'(ev, spec) {
    if (!hasWindow(ev.window)) return NO_WINDOW;
    const rs = ev.records.filter((r) => r.route === spec.route && inWindow(ev.window, r));
    const maxMs = spec.maxMs ?? 0;
    const hung = rs.filter((r) => r.status === 0 || r.ms > maxMs);
    const refused = rs.filter((r) => r.status !== 0 && (r.status < 200 || r.status >= 300));
    const badRefusals = refused.filter((r) => !(r.status === 503 && r.retryAfter && r.problem));
    return {
      population: rs.length,
      of: `${spec.route} requests sent during the fault`,
      ok: hung.length === 0 && badRefusals.length === 0,
      detail: `${rs.length} ${spec.route} during the fault: ${rs.length - refused.length - rs.filter((r) => r.status === 0).length} admitted, ${refused.length} refused (${refused.length - badRefusals.length} as 503 problem+json with Retry-After), ${hung.length} unanswered or slower than ${maxMs} ms; slowest ${Math.round(Math.max(0, ...rs.map((r) => r.ms)))} ms`,
      damage: [
        ...sample(
          hung.map(
            (r) =>
              `+${(r.t / 1000).toFixed(1)} s: ${r.status ? `answered in ${Math.round(r.ms)} ms` : `no answer (${r.error})`}`,
          ),
        ),
        ...sample(
          badRefusals.map(
            (r) =>
              `+${(r.t / 1000).toFixed(1)} s: refused with ${r.status}${r.retryAfter ? '' : ', no Retry-After'}${r.problem ? '' : ', not problem+json'}`,
          ),
        ),
      ],
    };
  },

  async 'admitted-p99'(ev, spec) {
    if (!hasWindow(ev.window)) return NO_WINDOW;
    const admitted = ev.records.filter(
      (r) => r.route === spec.route && inWindow(ev.window, r) && r.status >= 200 && r.status < 300,
    );
    const p99 = percentile(
      admitted.map((r) => r.ms),
      99,
    );
    return {
      population: admitted.length,
      of: `${spec.route} requests admitted during the fault`,
      ok: p99 <= (spec.maxMs ?? 0),
      detail: `p99 of the ${admitted.length} ${spec.route} admitted during the fault: ${Math.round(p99)} ms (budget ${spec.maxMs} ms)`,
    };
  },

  async 'dlq-empty'(ev, spec) {
    const entries = await ev.dlq();
    if (!entries) return { unavailable: 'the DLQ topics could not be read' };
    const runIds = new Set((await ev.orders()).map((o) => o.id));
    const parked = entries.filter((e) => e.key !== null && runIds.has(e.key));
    return {
      population: runIds.size,
      of: 'orders of the run',
      ok: parked.length === 0,
      detail: `${parked.length} of the run's events on ${spec.topic ?? 'the DLQ topics'}: a transient failure must be retried, never dead-lettered`,
      damage: sample(
        parked.map(
          (e) =>
            `order ${e.key}: ${e.type} dead-lettered after ${e.error.attempts ?? 0} attempts: ${e.error.message.slice(0, 80)}`,
        ),
      ),
    };
  },

  async 'processing-delay'(ev, spec) {
    const bus = await ev.bus();
    if (!bus) return { unavailable: 'the run did not read orders.events (no start offsets on this target)' };
    const publishedAt = new Map(bus.filter((m) => m.eventId).map((m) => [m.eventId as string, m.timestamp]));
    const delays = (await ev.deliveries())
      .filter((d) => d.deliveredAt !== undefined && publishedAt.has(d.eventId))
      .map((d) => ({ orderId: d.orderId, ms: (d.deliveredAt as number) - (publishedAt.get(d.eventId) as number) }));
    const maxMs = spec.maxMs ?? 0;
    const late = delays.filter((d) => d.ms > maxMs).sort((a, b) => b.ms - a.ms);
    return {
      population: delays.length,
      of: 'deliveries matched to their outcome event on the topic',
      ok: late.length === 0,
      detail: `outcome event on orders.events → its delivery (record timestamps): p50 ${Math.round(
        percentile(
          delays.map((d) => d.ms),
          50,
        ),
      )} ms, max ${Math.round(Math.max(0, ...delays.map((d) => d.ms)))} ms over ${delays.length} deliveries (bound ${maxMs} ms)`,
      damage: sample(
        late.map((d) => `order ${d.orderId} delivered ${Math.round(d.ms)} ms after its event was published`),
      ),
    };
  },

  async 'no-unauthorized-read'(ev) {
    return noUnauthorizedRead(ev);
  },

  async 'no-unauthorized-write'(ev) {
    return noUnauthorizedWrite(ev);
  },

  async 'refusals-problem-json'(ev) {
    return refusalsProblemJson(ev);
  },

  async 'internal-ports-closed'(ev) {
    return internalPortsClosed(ev);
  },

  async 'read-your-writes'(ev) {
    return readYourWrites(ev);
  },

  async 'eventual-read-converges'(ev, spec) {
    return eventualReadConverges(ev, spec.maxMs ?? 5000);
  },

  async 'as-of-honest'(ev, spec) {
    return asOfHonest(ev, spec.toleranceMs ?? 250, spec.maxMs ?? 2000);
  },

  async 'wal-retained'(ev, spec) {
    const { injectedAt, healedAt } = ev.window;
    if (injectedAt === undefined || healedAt === undefined) return NO_WINDOW;
    const samples = ev.dbSamples.filter((s) => s.slotRetained !== undefined) as (DbSample & { slotRetained: number })[];
    const before = samples.filter((s) => s.t <= injectedAt).at(-1) ?? samples.find((s) => s.t >= injectedAt);
    const during = samples.filter((s) => s.t >= injectedAt && s.t <= healedAt + 1000);
    // After the heal, what the relay confirms: the WAL Postgres keeps follows at its own pace (a logical slot's
    // restart point moves at the next running-transactions record, up to 15 s later).
    const last = ev.dbSamples.filter((s) => s.t > healedAt && s.slotUnconfirmed !== undefined).at(-1) as
      (DbSample & { slotUnconfirmed: number }) | undefined;
    if (!before || during.length === 0)
      return {
        unavailable: "no sample of the relay slot's retained WAL around the fault (no slot in the orders database?)",
      };
    const peak = Math.max(...during.map((s) => s.slotRetained));
    const grew = peak - before.slotRetained;
    const minBytes = spec.minBytes ?? 1024 * 1024;
    const maxBytes = spec.maxBytes ?? 1024 * 1024;
    // A lost slot has no restart point (no retained figure): its samples are counted here from all of them.
    const lost = ev.dbSamples.filter((s) => s.slotStatus === 'lost');
    const mib = (b: number) => `${(b / 1024 / 1024).toFixed(2)} MiB`;
    return {
      population: during.length,
      of: "samples of the orders relay slot's retained WAL while the relay was away (pg_replication_slots, every second)",
      ok: grew >= minBytes && last !== undefined && last.slotUnconfirmed <= maxBytes && lost.length === 0,
      detail: `retained WAL ${mib(before.slotRetained)} before the fault, up to ${mib(peak)} while it held (+${mib(grew)}, at least ${mib(minBytes)} expected); after the heal the relay confirmed up to ${last ? mib(last.slotUnconfirmed) : '(no sample)'} behind the head (at most ${mib(maxBytes)}); wal_status lost in ${lost.length} samples`,
      damage: [
        ...(grew < minBytes
          ? [`the slot's retained WAL grew by only ${mib(grew)} while the relay was away: was it away?`]
          : []),
        ...(last && last.slotUnconfirmed > maxBytes
          ? [`the relay still had ${mib(last.slotUnconfirmed)} unconfirmed after the heal: it does not confirm`]
          : []),
        ...(lost.length
          ? [`the slot was LOST (its WAL removed) at ${lost[0].t} ms: events in between never left`]
          : []),
      ],
    };
  },

  async 'alert-fired'(ev, spec) {
    if (!ev.prometheus) return { unavailable: 'no Prometheus on this target' };
    const alert = spec.alert ?? '';
    const range = rangeSince(ev.loadStartedAt, Date.now());
    const seen = single(await ev.prometheus(QUERIES.maxOver(spec.metric ?? '', range)));
    if (seen === undefined)
      return { unavailable: `Prometheus had no ${spec.metric} during the run: nothing the alert could fire on` };
    const fired = single(await ev.prometheus(QUERIES.alertFired(alert, range))) === 1;
    return {
      population: 1,
      of: `alert ${alert}`,
      ok: fired,
      detail: `${alert} ${fired ? 'fired' : 'did NOT fire'} during the run (ALERTS, last ${range}); ${spec.metric} reached ${Math.round(seen)} at most`,
      damage: fired ? [] : [`${alert} never fired, though ${spec.metric} reached ${Math.round(seen)}`],
    };
  },

  async 'slot-recreated'(ev) {
    if (!ev.prometheus) return { unavailable: 'no Prometheus on this target' };
    const range = rangeSince(ev.loadStartedAt, Date.now());
    const streaming = single(await ev.prometheus(QUERIES.maxOver('outbox_relay_streaming{source="orders"}', range)));
    if (streaming === undefined) return { unavailable: 'Prometheus never scraped the orders relay during the run' };
    const recreated =
      single(await ev.prometheus(QUERIES.maxOver('outbox_relay_slot_recreated_total{slot=~".*orders.*"}', range))) ?? 0;
    return {
      population: 1,
      of: "the orders relay's slot",
      ok: recreated >= 1 && streaming === 1,
      detail: `the orders relay recreated its lost slot ${recreated} time(s) during the run (outbox_relay_slot_recreated_total, logged at FATAL) and ${streaming === 1 ? 'streamed again' : 'never streamed'}`,
      damage: recreated >= 1 ? [] : ['the relay never said its slot was lost: it resumed as if nothing was missing'],
    };
  },

  async 'repair-exact'(ev) {
    const r = ev.facts['repair'] as
      | {
          lost: string[];
          named: string[];
          first: { orderId: string }[];
          converged: boolean;
          second: { orderId: string }[];
        }
      | undefined;
    if (!r) return { unavailable: 'no reconciliation and repair ran in this run' };
    const falsePositives = r.named.filter((id) => !r.lost.includes(id));
    const missed = r.lost.filter((id) => !r.named.includes(id));
    const unrepaired = r.lost.filter((id) => !r.first.some((e) => e.orderId === id));
    return {
      population: r.lost.length,
      of: "the run's orders whose event never reached Kafka (PENDING without OrderPlaced, or final without its outcome, on orders.events)",
      ok: falsePositives.length === 0 && missed.length === 0 && unrepaired.length === 0 && r.second.length === 0,
      detail:
        `${r.lost.length} orders lost; lab reconcile named ${r.named.length} of the run's orders (precision ${r.named.length ? ((r.named.length - falsePositives.length) / r.named.length).toFixed(2) : 'n/a'}, recall ${r.lost.length ? ((r.lost.length - missed.length) / r.lost.length).toFixed(2) : 'n/a'}); ` +
        `the repair republished ${r.first.length} events, the pipeline ${r.converged ? 'converged' : 'did NOT converge'} after it, and a second repair republished ${r.second.length}`,
      damage: [
        ...sample(falsePositives).map((id) => `named but not lost: ${id}`),
        ...sample(missed).map((id) => `lost but not named: ${id}`),
        ...sample(unrepaired).map((id) => `lost, not repaired: ${id}`),
        ...sample(r.second.map((e) => `the second repair republished ${e.orderId} again`)),
      ],
    };
  },

  async 'lock-wait'(ev, spec) {
    const migration = ev.facts['migration'] as
      { watch: WatchSummary; relayLagP99Ms: number | null; outlastedLoadMs?: number } | undefined;
    if (!migration) return { unavailable: 'no migration ran, so no lock waits were sampled' };
    if (migration.outlastedLoadMs)
      return {
        unavailable: `the migration outlasted the load by ${(migration.outlastedLoadMs / 1000).toFixed(1)} s: its last steps ran with nothing to block`,
      };
    const w = migration.watch;
    const max = spec.maxMs ?? w.budgetMs;
    const over = w.worstWaits.filter((x) => x.ms > max);
    return {
      population: w.samples,
      of: 'samples of pg_locks during the migration',
      ok: w.longestLockWaitMs <= max,
      detail:
        `longest lock wait in the orders database ${w.longestLockWaitMs} ms (the application's: ${w.longestApplicationWaitMs} ms; budget ${max} ms), ` +
        `${w.samples} samples every ${w.intervalMs} ms; replication slot lag up to ${Math.round(w.maxSlotLagBytes / 1024)} KiB, relay lag p99 ${migration.relayLagP99Ms ?? 'n/a'} ms`,
      damage: over.map(
        (x) => `${x.ms} ms: ${x.app || '?'} waited for ${x.mode} during ${x.step}: ${x.query.slice(0, 100)}`,
      ),
    };
  },

  async 'replay-effect-once'(ev) {
    const r = ev.facts['replay'] as ReplayFacts | undefined;
    if (!r)
      return {
        unavailable:
          'no dead letter was replayed in this run (the handler poison never reached the DLQ, or the experiment has no replay step)',
      };
    if (!r.consumed)
      return {
        unavailable: `the consumer never committed past the ${r.replays.length} replays of ${r.dlqId}: their effect cannot be judged`,
      };
    const ok = r.deliveries === 1 && r.inboxRows === 1;
    return {
      population: 1,
      of: `dead letter replayed ${r.replays.length} times`,
      ok,
      detail: `${r.dlqId} replayed ${r.replays.length} times with its payload corrected (landed at ${r.replays.join(', ')}): order ${r.orderId} has ${r.deliveries} deliveries, event ${r.eventId} ${r.inboxRows} inbox rows (notifications database)`,
      damage: ok
        ? []
        : [
            r.deliveries === 0
              ? `the corrected replay never took effect: order ${r.orderId} was never notified`
              : `order ${r.orderId} was notified ${r.deliveries} times for one event replayed ${r.replays.length} times: the replays were not deduplicated`,
          ],
    };
  },

  async 'pipeline-history'(ev, spec) {
    const ops = orderHistory(ev.records);
    const bus = await ev.bus();
    const skip = new Set(spec.skip ?? []);
    const stages = PIPELINE_STAGES.filter((s) => !skip.has(s));
    const f = checkPipeline(
      {
        ops,
        orders: await ev.orders(),
        keys: await ev.keys(),
        outbox: await ev.outbox(),
        inbox: await ev.inbox(),
        reservations: await ev.reservations(),
        deliveries: await ev.deliveries(),
        bus,
      },
      stages,
    );
    const kinds = ['lost', 'unexpected', 'duplicated'] as const;
    const violations = [
      ...(f.partial.length ? [{ stage: 'orders', kind: 'partial', ids: f.partial }] : []),
      ...f.stages.flatMap((s) =>
        kinds.filter((k) => s[k].length > 0).map((k) => ({ stage: s.stage, kind: k as string, ids: s[k] })),
      ),
    ];
    const example = (id: string) => `${id}${f.traceOf[id] ? ` (trace ${f.traceOf[id]})` : ''}`;
    const row = (s: (typeof f.stages)[number]) =>
      `${s.stage} ${s.present}/${s.expected}${s.lost.length ? ` lost ${s.lost.length}` : ''}${s.unexpected.length ? ` unexpected ${s.unexpected.length}` : ''}${s.duplicated.length ? ` duplicated ${s.duplicated.length}` : ''}${s.redelivered.length ? ` redelivered ${s.redelivered.length}` : ''}`;
    return {
      population: ops.length,
      of: 'orders the load tried to place (one per Idempotency-Key)',
      ok: violations.length === 0,
      detail:
        `${f.ops.invoked} invoked: ${f.ops.ok} ok, ${f.ops.failed} failed, ${f.ops.unknown} unknown to the client (${f.ops.recovered} of them recovered: they happened); ${f.partial.length} written in part; ` +
        `per stage (present/expected): ${f.stages.map(row).join(', ')}` +
        (bus ? '' : '; the Kafka stages were not read on this target') +
        (skip.size ? `; not in this variant: ${[...skip].join(', ')}` : ''),
      damage: violations.map((v) => `${v.kind} at ${v.stage}: ${v.ids.length} orders, e.g. ${example(v.ids[0])}`),
    };
  },
};

/** A poison message a driver published: what the DLQ must show for it. */
export interface Poison {
  eventId: string;
  /** `validation`: the schema refuses it (no retry helps); `handler`: valid, but the consumer's effect fails. */
  kind: 'validation' | 'handler';
  /** Epoch ms of its record timestamp. */
  publishedAt: number;
}

/** What replay-effect-once judges: the dead letter replayed, where each replay landed, and its effect counted. */
export interface ReplayFacts {
  dlqId: string;
  orderId: string;
  eventId: string;
  replays: string[];
  /** The consumer committed past every replay (it has seen them all), within the wait. */
  consumed: boolean;
  /** Rows in notifications' deliveries log for the order (no unique key: a second effect is a second row). */
  deliveries: number;
  /** Rows in notifications' inbox for the event id (the dedup record). */
  inboxRows: number;
}

/** How a check is named in journals and reports: its kind, and the route it is about. */
export const checkName = (spec: VerdictCheckSpec) => spec.check + (spec.route ? ` (${spec.route})` : '');

/**
 * The one place a judgement becomes a result: no evidence or an empty population is INCONCLUSIVE, never a pass or
 * a failure; an evaluator that throws is INCONCLUSIVE too.
 */
export async function settleCheck(spec: VerdictCheckSpec, evaluation: () => Promise<Judgement>): Promise<CheckResult> {
  const check = checkName(spec);
  try {
    const j = await evaluation();
    if ('unavailable' in j) return { check, ok: false, inconclusive: true, detail: `no evidence: ${j.unavailable}` };
    const population = { n: j.population, of: j.of };
    if (j.population === 0)
      return { check, ok: false, inconclusive: true, detail: `nothing to judge (0 ${j.of}): ${j.detail}`, population };
    return { check, ok: j.ok, detail: j.detail, damage: j.damage?.length ? j.damage : [], population };
  } catch (error) {
    return { check, ok: false, inconclusive: true, detail: `could not evaluate: ${(error as Error).message}` };
  }
}

export async function evaluate(ev: RunEvidence, specs: VerdictCheckSpec[]): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const spec of specs) results.push(await settleCheck(spec, () => EVALUATORS[spec.check](ev, spec)));
  return results;
}
