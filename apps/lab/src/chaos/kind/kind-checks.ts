// Verdict checks on the kind target. The checks on data are the local target's own (checks.ts), fed with SQL through
// `kubectl exec … psql` and the load's records; what the local target reads from one gateway's /metrics or from the
// broker is read from the in-cluster Prometheus instead (every pod, every restart), and the client-side latency and
// error checks get the gateway's server-side view from Prometheus beside them in the report.
import { CheckContext, CheckResult, checkName, evaluate, settleCheck } from '../checks';
import type { VerdictCheckSpec } from '../experiment-schema';
import { QUERIES, rangeSince, Sample, single } from './prometheus';

export type PromQuery = (promql: string) => Promise<Sample[]>;

export interface KindCheckContext extends CheckContext {
  prometheus: PromQuery;
  /** Epoch ms the load started: Prometheus ranges cover the run from there. */
  loadStartedAt: number;
  now: () => number;
}

type KindEvaluator = (ctx: KindCheckContext, spec: VerdictCheckSpec) => Promise<Omit<CheckResult, 'check'>>;

const fmt = (v: number | undefined, digits = 2) => (v === undefined || Number.isNaN(v) ? 'no data' : v.toFixed(digits));

const KIND_EVALUATORS: Partial<Record<VerdictCheckSpec['check'], KindEvaluator>> = {
  async 'breaker-opened'(ctx, spec) {
    const dependency = spec.dependency ?? '';
    const range = rangeSince(ctx.loadStartedAt, ctx.now());
    const opened = single(await ctx.prometheus(QUERIES.breakerOpened(dependency, range)));
    const maxState = single(await ctx.prometheus(QUERIES.breakerMaxState(dependency, range)));
    if (opened === undefined && maxState === undefined) return { ok: false, inconclusive: true, detail: `Prometheus has no circuit_breaker_* series for ${dependency}: is the gateway scraped?` };
    // increase() misses a counter whose series is born inside the range; the state gauge (2 = open) covers that.
    const ok = (opened ?? 0) >= 0.5 || maxState === 2;
    return { ok, detail: `breaker ${dependency} (in-cluster Prometheus, last ${range}): ~${fmt(opened, 1)} transitions to open, highest state ${fmt(maxState, 0)} (2 = open)` };
  },
  async 'dlq-received'(ctx, spec) {
    if (!ctx.facts['poisonPublished']) {
      return { ok: false, inconclusive: true, detail: 'no poison message was published in this run, so there is nothing to look for on the DLQ' };
    }
    const original = (spec.topic ?? '').replace(/\.dlq$/, '');
    const range = rangeSince(ctx.loadStartedAt, ctx.now());
    const n = single(await ctx.prometheus(QUERIES.dlqMessages(original, range)));
    return { ok: (n ?? 0) >= 0.5, detail: `~${fmt(n, 1)} messages from ${original} dead-lettered during the run (consumer_dlq_messages_total, in-cluster Prometheus)` };
  },
};

/** The gateway's server-side view of a route during the run, from Prometheus: a second opinion, never the verdict. */
async function serverView(ctx: KindCheckContext, spec: VerdictCheckSpec): Promise<string> {
  if (!spec.route) return '';
  const range = rangeSince(ctx.loadStartedAt, ctx.now());
  try {
    if (spec.check === 'client-error-ratio') return `; gateway's own 5xx ratio (Prometheus, last ${range}): ${fmt(single(await ctx.prometheus(QUERIES.routeErrorRatio(spec.route, range))), 4)}`;
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
    if (spec.check.startsWith('trace-')) {
      // The local evaluators read the lab's own trace store; on kind the spans are in the in-cluster Jaeger.
      results.push({ check: checkName(spec), ok: false, inconclusive: true, detail: 'trace assertions are not implemented on the kind target yet (its spans are in the in-cluster Jaeger, which the kind driver does not query)' });
      continue;
    }
    const evaluator = KIND_EVALUATORS[spec.check];
    if (!evaluator) {
      const [result] = await evaluate(ctx, [spec]);
      results.push({ ...result, detail: result.detail + (await serverView(ctx, spec)) });
      continue;
    }
    results.push(await settleCheck(spec, () => evaluator(ctx, spec)));
  }
  return results;
}
