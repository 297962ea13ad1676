// `lab chaos run <id>`: steady state → load → fault (local driver) → heal → convergence → verdict checks on data →
// report. Exit codes: 0 PASS (every check held), 1 FAIL, 2 ABORTED (steady state did not hold, or the run broke),
// 3 INCONCLUSIVE (the fault was not proven to have fired, or a check could not be evaluated): never green.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaBrokers } from '../infra/infra';
import { labSql } from '../infra/lab-sql';
import type { LabLayout } from '../layout/lab-layout';
import { LocalTarget } from '../local/local-target';
import { LabError } from '../process/lab-error';
import { findExperiment } from './catalog';
import { CheckContext, CheckResult, customerPattern, evaluate, runOrders } from './checks';
import { DriverContext, driverFor, timingOf } from './drivers';
import type { Experiment } from './experiment-schema';
import { RequestRecord, summarize } from './load';
import { startExperimentLoad } from './run-load';
import { recommendationsLive } from './recommendations-probe';
import { writeReport } from './report';

export type Verdict = 'PASS' | 'FAIL' | 'INCONCLUSIVE' | 'ABORTED';
export const EXIT_CODES: Record<Verdict, number> = { PASS: 0, FAIL: 1, ABORTED: 2, INCONCLUSIVE: 3 };

export interface RunJournal {
  id: string;
  runId: string;
  target: 'local' | 'kind';
  quick: boolean;
  sabotaged: boolean;
  experiment: Experiment;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  verdict: Verdict;
  expected: 'pass' | 'fail';
  reason: string;
  steadyState: { probe: string; ok: boolean; detail: string }[];
  fault: { driver: string; fired: boolean; evidence: string[]; window: { injectedAt?: number; healedAt?: number } };
  convergence: { waitedS: number; converged: boolean };
  checks: CheckResult[];
  load: { sent: number; summary: ReturnType<typeof summarize> };
  dbSamples: CheckContext['dbSamples'];
  events: { t: string; message: string }[];
  reportDir?: string;
}

export interface RunOptions {
  quick: boolean;
  log: (message: string) => void;
  sabotage?: boolean;
}

async function probe(name: string, ctx: DriverContext): Promise<{ probe: string; ok: boolean; detail: string }> {
  try {
    switch (name) {
      case 'services-ready': {
        const statuses = await ctx.local.status();
        const down = statuses.filter((c) => c.kind === 'service' && !c.healthy).map((c) => `${c.name} (${c.state})`);
        const infra = statuses.filter((c) => ['postgres', 'redis', 'kafka'].includes(c.name) && c.state !== 'running').map((c) => c.name);
        const extras = await Promise.all(ctx.extras.map(async (e) => ((await fetch(`${e.url}/readyz`).catch(() => undefined))?.ok ? undefined : e.name)));
        const bad = [...down, ...infra, ...extras.filter(Boolean)];
        return { probe: name, ok: bad.length === 0, detail: bad.length ? `not ready: ${bad.join(', ')}` : 'every service, extra process and piece of infrastructure is ready' };
      }
      case 'kafka-reachable': {
        const admin = new Kafka({ clientId: 'lab-chaos-probe', brokers: kafkaBrokers(ctx.layout), logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();
        await admin.connect();
        const topics = await admin.listTopics();
        await admin.disconnect();
        return { probe: name, ok: topics.includes('orders.events'), detail: `broker answers; ${topics.length} topics` };
      }
      case 'recommendations-live':
        return await recommendationsLive(ctx.layout, ctx.baseUrl);
    }
    return { probe: name, ok: false, detail: 'unknown probe' };
  } catch (error) {
    return { probe: name, ok: false, detail: (error as Error).message };
  }
}

export async function runExperiment(layout: LabLayout, id: string, options: RunOptions): Promise<RunJournal> {
  const { experiment } = findExperiment(layout.root, id);
  const local = new LocalTarget(layout);
  if (!(await local.status()).some((c) => c.name === 'supervisor' && c.state === 'running')) throw new LabError('chaos', 'the local lab is not running; start it with `lab up`');
  const started = Date.now();
  const runId = randomBytes(3).toString('hex');
  const events: RunJournal['events'] = [];
  const log = (message: string) => {
    events.push({ t: new Date().toISOString(), message });
    options.log(message);
  };
  const sabotaged = options.sabotage ?? process.env['LAB_CHAOS_SABOTAGE'] === 'no-op-driver';
  const ctx: DriverContext = {
    layout,
    local,
    experiment,
    quick: options.quick,
    sabotaged,
    log,
    loadStartedAt: Number.POSITIVE_INFINITY,
    baseUrl: `http://127.0.0.1:${layout.ports.gateway}`,
    window: {},
    fired: false,
    evidence: [],
    extras: [],
    proxies: [],
    facts: {},
  };
  const databases = labSql(layout);
  const sql: CheckContext['sql'] = (database, text, params) => databases.query(database, text, params);
  const driver = driverFor(experiment.fault.local);
  const journal: RunJournal = {
    id,
    runId,
    target: 'local',
    quick: options.quick,
    sabotaged,
    experiment,
    startedAt: new Date(started).toISOString(),
    finishedAt: '',
    durationS: 0,
    verdict: 'ABORTED',
    expected: experiment.expected,
    reason: '',
    steadyState: [],
    fault: { driver: experiment.fault.local.driver, fired: false, evidence: ctx.evidence, window: ctx.window },
    convergence: { waitedS: 0, converged: false },
    checks: [],
    load: { sent: 0, summary: {} },
    dbSamples: [],
    events,
  };
  let records: RequestRecord[] = [];
  let sampling = true;
  let sampler: Promise<void> = Promise.resolve();
  try {
    log(`experiment ${id} (run ${runId}${options.quick ? ', quick' : ''}${sabotaged ? ', SABOTAGED: driver is a no-op' : ''}): ${experiment.hypothesis}`);
    await driver.setup?.(ctx, experiment.fault.local);
    for (const name of experiment.steadyState) {
      const result = await probe(name, ctx);
      journal.steadyState.push(result);
      log(`steady state ${name}: ${result.ok ? 'holds' : 'DOES NOT HOLD'} (${result.detail})`);
    }
    if (journal.steadyState.some((p) => !p.ok)) {
      journal.reason = 'the steady state did not hold before the fault: nothing was injected';
      return journal;
    }
    const load = experiment.load;
    journal.dbSamples = [];
    const metricsBefore = await (await fetch(`${ctx.baseUrl}/metrics`)).text();
    const { rate, durationS, done: loadPromise } = await startExperimentLoad(layout, ctx.baseUrl, experiment, {
      quick: options.quick,
      runId,
      facts: ctx.facts,
      log,
      progress: options.log,
      onStart: (at) => (ctx.loadStartedAt = at),
    });
    log(`load started: ${load.mix}${load.mix === 'last-item' ? ` (${load.buyers ?? 50} concurrent buyers)` : ` at ${rate}/s for ${durationS} s`}, ${load.customers} customers`);
    sampler = (async () => {
      while (sampling) {
        try {
          const [row] = await sql('orders', 'SELECT xact_commit::bigint AS x, tup_returned::bigint AS r FROM pg_stat_database WHERE datname = current_database()');
          journal.dbSamples.push({ t: Date.now() - ctx.loadStartedAt, xactCommit: Number(row['x']), tupReturned: Number(row['r']) });
        } catch {
          /* Postgres may be the fault */
        }
        await sleep(1000);
      }
    })();
    const timing = timingOf(experiment.fault.local, options.quick);
    const faultPromise = driver.run(ctx, experiment.fault.local, timing).catch((error: Error) => {
      ctx.evidence.push(`driver error: ${error.message}`);
      log(`fault driver failed: ${error.message}`);
    });
    const [result] = await Promise.all([loadPromise, faultPromise]);
    records = result.records;
    log(`fault ${ctx.fired ? 'fired' : 'NOT PROVEN'}: ${ctx.evidence.join('; ')}`);
    log(`load finished: ${records.length} requests`);
    await driver.cleanup?.(ctx, experiment.fault.local);

    // Convergence: every order of this run final, with its notification, or the timeout.
    const timeoutS = (options.quick ? experiment.convergence.quick?.timeoutS : undefined) ?? experiment.convergence.timeoutS;
    const convergeStart = Date.now();
    let converged = false;
    const touchesOrders = records.some((r) => r.route === 'POST /v1/orders');
    while (touchesOrders && Date.now() - convergeStart < timeoutS * 1000) {
      const orders = await runOrders({ sql, runId }).catch(() => []);
      const [n] = await sql('notifications', 'SELECT count(*)::int AS n FROM notifications WHERE customer_id LIKE $1', [customerPattern(runId)]).catch(() => [{ n: -1 }]);
      if (orders.length > 0 && orders.every((o) => o.status !== 'PENDING') && Number(n['n']) >= orders.length) {
        converged = true;
        break;
      }
      await sleep(500);
    }
    if (!touchesOrders) {
      await sleep(1000);
      converged = true;
    }
    journal.convergence = { waitedS: Math.round((Date.now() - convergeStart) / 100) / 10, converged };
    log(`convergence: ${converged ? 'reached' : 'NOT reached'} after ${journal.convergence.waitedS} s`);
    sampling = false;
    await sampler;

    journal.checks = await evaluate({ runId, records, window: ctx.window, facts: ctx.facts, baseUrl: ctx.baseUrl, layout, sql, dbSamples: journal.dbSamples, metricsBefore, loadStartedAt: ctx.loadStartedAt }, experiment.verdict);
    for (const c of journal.checks) log(`check ${c.check}: ${c.inconclusive ? 'INCONCLUSIVE' : c.ok ? 'holds' : 'FAILS'} — ${c.detail}`);
    journal.fault.fired = ctx.fired;
    if (!ctx.fired) {
      journal.verdict = 'INCONCLUSIVE';
      journal.reason = 'the fault was not proven to have fired: nothing this run measured can confirm the hypothesis';
    } else if (journal.checks.some((c) => c.inconclusive)) {
      journal.verdict = 'INCONCLUSIVE';
      journal.reason = `could not evaluate: ${journal.checks.filter((c) => c.inconclusive).map((c) => c.check).join(', ')}`;
    } else if (journal.checks.every((c) => c.ok)) {
      journal.verdict = 'PASS';
      journal.reason = 'every verdict check held';
    } else {
      journal.verdict = 'FAIL';
      journal.reason = `failed: ${journal.checks.filter((c) => !c.ok).map((c) => c.check).join(', ')}${experiment.expected === 'fail' ? ' (the naive variant fails, as this experiment expects)' : ''}`;
    }
  } catch (error) {
    journal.verdict = 'ABORTED';
    journal.reason = `the run broke: ${(error as Error).message}`;
    log(journal.reason);
  } finally {
    sampling = false;
    await sampler.catch(() => undefined);
    await driver.cleanup?.(ctx, experiment.fault.local).catch(() => undefined);
    await Promise.all(ctx.extras.map((e) => e.stop().catch(() => undefined)));
    await Promise.all(ctx.proxies.map((p) => p.stop().catch(() => undefined)));
    await databases.close();
    journal.fault.fired = ctx.fired;
    journal.load = { sent: records.length, summary: summarize(records) };
    journal.finishedAt = new Date().toISOString();
    journal.durationS = Math.round((Date.now() - started) / 100) / 10;
    journal.reportDir = writeReport(layout, journal, records);
  }
  return journal;
}
