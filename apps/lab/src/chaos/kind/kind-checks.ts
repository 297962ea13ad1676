// Verdict checks on the kind target. The checks on data are the local target's own (checks.ts), over the same
// evidence: SQL through `kubectl exec … psql`, the topics through Kafka's CLI in the kafka pod, the spans from Jaeger,
// and the load's records. What the local target reads from its fault proxy (the breaker's edge) is read from the
// in-cluster Prometheus instead, and the client-side latency and error checks get the gateway's server-side view
// from Prometheus beside them in the report.
import { CheckResult, evaluate, Judgement, settleCheck } from '../checks';
import type { RunEvidence } from '../evidence';
import type { VerdictCheckSpec } from '../experiment-schema';
import { QUERIES, rangeSince, Sample, single } from '../prometheus-queries';

export type PromQuery = (promql: string) => Promise<Sample[]>;

export interface KindCheckContext {
  evidence: RunEvidence;
  prometheus: PromQuery;
  now: () => number;
}

type KindEvaluator = (ctx: KindCheckContext, spec: VerdictCheckSpec) => Promise<Judgement>;

const fmt = (v: number | undefined, digits = 2) => (v === undefined || Number.isNaN(v) ? 'no data' : v.toFixed(digits));

const KIND_EVALUATORS: Partial<Record<VerdictCheckSpec['check'], KindEvaluator>> = {
  async 'breaker-opened'(ctx, spec) {
    const dependency = spec.dependency ?? '';
    const range = rangeSince(ctx.evidence.loadStartedAt, ctx.now());
    const opened = single(await ctx.prometheus(QUERIES.breakerOpened(dependency, range)));
    const maxState = single(await ctx.prometheus(QUERIES.breakerMaxState(dependency, range)));
    if (opened === undefined && maxState === undefined)
      return { unavailable: `Prometheus has no circuit_breaker_* series for ${dependency}: is the gateway scraped?` };
    // increase() misses a counter whose series is born inside the range; the state gauge (2 = open) covers that.
    const ok = (opened ?? 0) >= 0.5 || maxState === 2;
    return {
      population: 1,
      of: `breaker to ${dependency}`,
      ok,
      detail: `breaker ${dependency} (in-cluster Prometheus, last ${range}): ~${fmt(opened, 1)} transitions to open, highest state ${fmt(maxState, 0)} (2 = open)`,
      damage: ok ? [] : [`the breaker to ${dependency} never opened during the run`],
    };
  },
};

/**
 * Where the kind target reads each check's evidence: one entry per check (a new check does not compile until it has
 * one), so no experiment that runs on kind can be INCONCLUSIVE there by construction; `null` marks a check kind
 * cannot judge, which only an experiment the kind runner refuses (ABORTED, saying why) may use.
 */
export const KIND_EVIDENCE: Record<VerdictCheckSpec['check'], string | null> = {
  'all-orders-final': 'orders database (psql in the postgres pod)',
  'one-delivery-per-order': 'notifications database: deliveries log and notifications',
  'redeliveries-absorbed':
    'orders.events from the run’s start offsets (console consumer in the kafka pod) and deliveries',
  'stock-conservation': 'inventory stock before and after, CONFIRMED order lines, reservations (psql)',
  'pipeline-history': 'the load’s records, the three databases and both event topics',
  'client-error-ratio': 'the load’s records, with the gateway’s own ratio from Prometheus beside them',
  'orders-accepted-during-fault': 'the load’s records and the orders database',
  'one-order-per-key': 'idempotency records and orders (psql)',
  'replays-flagged': 'the load’s records',
  'exactly-one-confirmed': 'the orders database',
  'p99-during-fault': 'the load’s records, with the gateway’s own p99 from Prometheus beside them',
  'fallback-served': 'the load’s records',
  'breaker-opened': 'circuit_breaker_* from the in-cluster Prometheus',
  'orders-db-load-not-amplified': 'pg_stat_database of orders, sampled with psql every second',
  'route-policy-during-fault': 'the load’s records',
  'no-5xx-storm': 'the load’s records',
  'recovered-after-heal': 'the load’s records',
  'dlq-received': 'the DLQ topics (console consumer in the kafka pod) and the poison the runner published',
  'queries-per-request': 'pg_stat_statements of the orders database at the load’s start and end',
  'trace-no-span-during-open': 'Jaeger’s query API through the API server’s proxy',
  'trace-continues': 'Jaeger’s query API through the API server’s proxy',
  'lock-wait': 'pg_locks and pg_stat_activity sampled by psql in the postgres pod during the migration',
  'fast-refusals': 'the load’s records',
  'admitted-p99': 'the load’s records',
  'dlq-empty': 'the DLQ topics (console consumer in the kafka pod)',
  'processing-delay': 'orders.events from the run’s start offsets and the deliveries log',
  'repair-exact': 'reconcile and repair through psql in the pod (the repair in one psql session)',
  'read-your-writes': 'the load’s records (each order read back through the gateway’s NodePort right after its 201)',
  'eventual-read-converges': 'outcome rows in the orders outbox and the notifications database (psql)',
  'as-of-honest':
    'the load’s records (Data-As-Of of each feed answer) against the orders outbox and notifications (psql)',
  'wal-retained': 'pg_replication_slots of the orders database, sampled with psql every second',
  'alert-fired': 'ALERTS and the alert’s metric in the in-cluster Prometheus',
  'slot-recreated': 'the relay’s own counter and streaming gauge in the in-cluster Prometheus',
  'no-unauthorized-read': 'the attacker’s own record of every answer it got from the gateway’s NodePort',
  'no-unauthorized-write':
    'the attacker’s answers, orders and idempotency keys of its accounts and the attacked SKU’s stock (psql)',
  'refusals-problem-json': 'the attacker’s own record of every answer (status and content type)',
  'internal-ports-closed':
    'TCP connects from a pod the NetworkPolicies keep off each internal port (kubectl exec), and from the pod they let in',
  'replay-effect-once':
    'the DLQ topic and the corrected replays through the console tools in the kafka pod, the group’s commits (kafka-consumer-groups.sh), the notifications database (psql)',
};

/** The gateway's server-side view of a route during the run, from Prometheus: a second opinion, never the verdict. */
async function serverView(ctx: KindCheckContext, spec: VerdictCheckSpec): Promise<string> {
  if (!spec.route) return '';
  const range = rangeSince(ctx.evidence.loadStartedAt, ctx.now());
  try {
    if (spec.check === 'client-error-ratio')
      return `; gateway's own 5xx ratio (Prometheus, last ${range}): ${fmt(single(await ctx.prometheus(QUERIES.routeErrorRatio(spec.route, range))), 4)}`;
    if (spec.check === 'p99-during-fault') {
      const p99 = single(await ctx.prometheus(QUERIES.routeP99(spec.route, range)));
      return `; gateway's own p99 (Prometheus, whole run): ${p99 === undefined || Number.isNaN(p99) ? 'no data' : `${Math.round(p99 * 1000)} ms`}`;
    }
  } catch (error) {
    return `; Prometheus: ${(error as Error).message}`;
  }
  return '';
}

export async function evaluateKind(ctx: KindCheckContext, specs: VerdictCheckSpec[]): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const spec of specs) {
    const evaluator = KIND_EVALUATORS[spec.check];
    if (evaluator) {
      results.push(await settleCheck(spec, () => evaluator(ctx, spec)));
      continue;
    }
    const [result] = await evaluate(ctx.evidence, [spec]);
    results.push({ ...result, detail: result.detail + (await serverView(ctx, spec)) });
  }
  return results;
}
