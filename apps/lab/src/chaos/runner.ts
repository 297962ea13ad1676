// `lab chaos run <id>`: steady state → load → fault (local driver) → heal → convergence → steady state again →
// verdict checks on the run's evidence → report. Exit codes (verdict.ts): 0 PASS, 1 FAIL, 2 ABORTED, 3
// INCONCLUSIVE, 4 DEVIATION.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { dlqTopic, EVENT_TOPICS } from '@faultline/contracts';
import { listDlq } from '@faultline/messaging';
import { kafkaBrokers } from '../infra/infra';
import { labSql } from '../infra/lab-sql';
import type { LabLayout } from '../layout/lab-layout';
import { LocalTarget } from '../local/local-target';
import { LabError } from '../process/lab-error';
import { readStoredSpans } from '../tracing/span-tree';
import { traceStoreDir } from '../tracing/trace-store';
import { busStart, readBus } from './bus';
import { findExperiment } from './catalog';
import { evaluate } from './checks';
import { DriverContext, driverFor, timingOf } from './drivers';
import { parseQueryResponse } from './prometheus-queries';
import type { Converge } from './operator-repair';
import { applyServerSettings, resetServerSettings } from './server-settings';
import {
  customerPattern,
  DB_SAMPLE_SQL,
  dbSampleOf,
  once,
  pollSpans,
  readStock,
  RunEvidence,
  sqlEvidence,
  SqlQuery,
} from './evidence';
import { FaultLedger, healLeftovers } from './fault-ledger';
import { RequestRecord, summarize } from '@faultline/load';
import { prepareExperimentLoad, startExperimentLoad } from './run-load';
import { recommendationsLive } from './recommendations-probe';
import { writeReport } from './report';
import { decideVerdict, EXIT_CODES, Verdict } from './verdict';
import { steadyStateCheck, type RunJournal, type RunOptions } from './journal';

export { EXIT_CODES, type Verdict };

async function probe(name: string, ctx: DriverContext): Promise<{ probe: string; ok: boolean; detail: string }> {
  try {
    switch (name) {
      case 'services-ready': {
        const statuses = await ctx.local.status();
        // A held service is judged by the variant copy in its place (an extra like any other).
        const down = statuses
          .filter((c) => c.kind === 'service' && !c.healthy && !(c.state === 'held' && ctx.held.includes(c.name)))
          .map((c) => `${c.name} (${c.state})`);
        const infra = statuses
          .filter((c) => ['postgres', 'redis', 'kafka'].includes(c.name) && c.state !== 'running')
          .map((c) => c.name);
        const extras = await Promise.all(
          ctx.extras.map(async (e) =>
            (await fetch(`${e.url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.ok
              ? undefined
              : e.name,
          ),
        );
        const bad = [...down, ...infra, ...extras.filter(Boolean)];
        return {
          probe: name,
          ok: bad.length === 0,
          detail: bad.length
            ? `not ready: ${bad.join(', ')}`
            : 'every service, extra process and piece of infrastructure is ready',
        };
      }
      case 'kafka-reachable': {
        const admin = new Kafka({
          clientId: 'lab-chaos-probe',
          brokers: kafkaBrokers(ctx.layout),
          logLevel: logLevel.NOTHING,
          retry: { retries: 2 },
        }).admin();
        await admin.connect();
        const topics = await admin.listTopics();
        await admin.disconnect();
        const missing = [...EVENT_TOPICS, ...EVENT_TOPICS.map(dlqTopic)].filter((t) => !topics.includes(t));
        return {
          probe: name,
          ok: missing.length === 0,
          detail: missing.length
            ? `broker answers, but topics missing: ${missing.join(', ')}`
            : `broker answers; the lab's ${EVENT_TOPICS.length * 2} topics exist`,
        };
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
  if (!(await local.status()).some((c) => c.name === 'supervisor' && c.state === 'running'))
    throw new LabError('chaos', 'the local lab is not running; start it with `lab up`');
  const started = Date.now();
  const runId = randomBytes(3).toString('hex');
  const events: RunJournal['events'] = [];
  const log = (message: string) => {
    events.push({ t: new Date().toISOString(), message });
    options.log(message);
  };
  const sabotaged = options.sabotage ?? process.env['LAB_CHAOS_SABOTAGE'] === 'no-op-driver';
  // A previous run that died (Ctrl-C twice, a crash, a kill) may have left a fault in place: undo it first.
  for (const healed of await healLeftovers(layout, local)) log(`before the run: ${healed}`);
  const ledger = new FaultLedger(layout, runId, id);
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
    held: [],
    ledger,
    facts: {},
    runId,
    extraRecords: [],
  };
  const databases = labSql(layout);
  const sql: SqlQuery = (database, text, params) => databases.query(database, text, params);
  const brokers = kafkaBrokers(layout);
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
    asDesigned: false,
    expected: experiment.expected,
    reason: '',
    steadyState: [],
    steadyStateAfter: [],
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
  // Undoes the fault and everything the run started, once: at the end, or on Ctrl-C before the process exits.
  const serverSettings = Object.keys(experiment.variant?.['postgres'] ?? {});
  const teardown = once(async () => {
    await driver.cleanup?.(ctx, experiment.fault.local).catch(() => undefined);
    if (serverSettings.length) {
      await resetServerSettings(sql, serverSettings).catch((error: Error) =>
        log(`could not reset ${serverSettings.join(', ')}: ${error.message}`),
      );
      ledger.remove({ kind: 'server-settings', names: serverSettings });
    }
    await Promise.all(ctx.extras.map((e) => e.stop().catch(() => undefined)));
    await Promise.all(ctx.proxies.map((p) => p.stop().catch(() => undefined)));
    // The lab is whole again: every service a variant replaced runs from the supervisor once more.
    for (const name of ctx.held)
      await local.hold(name, undefined).catch((error: Error) => log(`could not release ${name}: ${error.message}`));
    ledger.close();
  });
  const interrupted = (signal: NodeJS.Signals) => {
    log(`${signal}: healing the fault and stopping what the run started`);
    void teardown().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    log(
      `experiment ${id} (run ${runId}${options.quick ? ', quick' : ''}${sabotaged ? ', SABOTAGED: driver is a no-op' : ''}): ${experiment.hypothesis}`,
    );
    await driver.setup?.(ctx, experiment.fault.local);
    if (serverSettings.length) {
      ledger.add({ kind: 'server-settings', names: serverSettings });
      log(
        `the naive variant's server settings, for this run: ${(await applyServerSettings(sql, experiment.variant?.['postgres'] ?? {})).join(', ')}`,
      );
    }
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
    await prepareExperimentLoad(layout, ctx.baseUrl, experiment, { facts: ctx.facts, log });
    // Where the run starts: the topics' ends and the stock of every SKU.
    const busFrom = await busStart(brokers);
    ctx.facts['busFrom'] = busFrom;
    const stockAtStart = await readStock(sql);
    await driver.beforeLoad?.(ctx, experiment.fault.local);
    const stopLoad = new AbortController();
    const {
      rate,
      durationS,
      done: loadPromise,
    } = await startExperimentLoad(layout, ctx.baseUrl, experiment, {
      quick: options.quick,
      runId,
      progress: options.log,
      onStart: (at) => (ctx.loadStartedAt = at),
      signal: stopLoad.signal,
    });
    log(
      `load started: ${load.mix}${load.mix === 'last-item' ? ` (${load.buyers ?? 50} concurrent buyers)` : ` at ${rate}/s for ${durationS} s`}, ${load.customers} customers`,
    );
    sampler = (async () => {
      while (sampling) {
        try {
          const [row] = await sql('orders', DB_SAMPLE_SQL);
          journal.dbSamples.push(dbSampleOf(row, Date.now() - ctx.loadStartedAt));
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
    const { endAfterHealS } = experiment.load;
    if (endAfterHealS !== undefined)
      void faultPromise.then(() => sleep(endAfterHealS * 1000)).then(() => stopLoad.abort());
    const loadDone = loadPromise.then(async (result) => {
      await driver.afterLoad?.(ctx, experiment.fault.local);
      return result;
    });
    const [result] = await Promise.all([loadDone, faultPromise]);
    records = [...result.records, ...ctx.extraRecords].sort((a, b) => a.t - b.t);
    log(`fault ${ctx.fired ? 'fired' : 'NOT PROVEN'}: ${ctx.evidence.join('; ')}`);
    log(`load finished: ${records.length} requests`);
    await driver.cleanup?.(ctx, experiment.fault.local);

    // Convergence: every order of this run final, with its delivery, or the timeout.
    const timeoutS =
      (options.quick ? experiment.convergence.quick?.timeoutS : undefined) ?? experiment.convergence.timeoutS;
    const touchesOrders = records.some((r) => r.route === 'POST /v1/orders');
    const converge: Converge = async (extraS = 0) => {
      const started = Date.now();
      while (touchesOrders && Date.now() - started < (timeoutS + extraS) * 1000) {
        const [row] = await sql(
          'orders',
          "SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'PENDING')::int AS pending, coalesce(array_agg(id::text) FILTER (WHERE status <> 'PENDING'), '{}') AS final FROM orders WHERE customer_id LIKE $1",
          [customerPattern(runId)],
        ).catch(() => [undefined]);
        const final = (row?.['final'] as string[] | undefined) ?? [];
        const [d] = await sql(
          'notifications',
          'SELECT count(DISTINCT order_id)::int AS n FROM deliveries WHERE order_id = ANY($1::uuid[])',
          [final],
        ).catch(() => [{ n: -1 }]);
        if (row && Number(row['n']) > 0 && Number(row['pending']) === 0 && Number(d['n']) >= final.length) return true;
        await sleep(500);
      }
      return !touchesOrders;
    };
    const convergeStart = Date.now();
    let converged = await converge();
    if (await driver.afterConvergence?.(ctx, experiment.fault.local, converge)) converged = await converge();
    journal.convergence = { waitedS: Math.round((Date.now() - convergeStart) / 100) / 10, converged };
    log(`convergence: ${converged ? 'reached' : 'NOT reached'} after ${journal.convergence.waitedS} s`);
    sampling = false;
    await sampler;
    for (const name of experiment.steadyState) {
      const after = await probe(name, ctx);
      journal.steadyStateAfter.push(after);
      log(`steady state after heal, ${name}: ${after.ok ? 'holds' : 'DOES NOT HOLD'} (${after.detail})`);
    }

    const bus = once(() => readBus(brokers, busFrom));
    const evidence: RunEvidence = {
      runId,
      records,
      window: ctx.window,
      loadStartedAt: ctx.loadStartedAt,
      facts: ctx.facts,
      dbSamples: journal.dbSamples,
      edge: ctx.edge,
      ...sqlEvidence(sql, runId, async () => (await bus()).flatMap((m) => (m.eventId ? [m.eventId] : []))),
      stock: once(async () => ({ start: stockAtStart, end: await readStock(sql) })),
      bus,
      dlq: once(() => listDlq(brokers, EVENT_TOPICS.map(dlqTopic))),
      spans: pollSpans(() => readStoredSpans(traceStoreDir(layout)), 1000),
      prometheus: async (promql) => {
        const answer = await fetch(
          `http://127.0.0.1:${layout.ports.prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`,
          { signal: AbortSignal.timeout(5000) },
        );
        return parseQueryResponse(await answer.text());
      },
    };
    journal.checks = [...(await evaluate(evidence, experiment.verdict)), steadyStateCheck(journal.steadyStateAfter)];
    for (const c of journal.checks)
      log(`check ${c.check}: ${c.inconclusive ? 'INCONCLUSIVE' : c.ok ? 'holds' : 'FAILS'} — ${c.detail}`);
    journal.fault.fired = ctx.fired;
    const decision = decideVerdict({
      fired: ctx.fired,
      checks: journal.checks,
      expected: experiment.expected,
      mustFail: experiment.mustFail,
    });
    journal.verdict = decision.verdict;
    journal.reason = decision.reason;
    journal.asDesigned = decision.asDesigned;
  } catch (error) {
    journal.verdict = 'ABORTED';
    journal.reason = `the run broke: ${(error as Error).message}`;
    log(journal.reason);
  } finally {
    sampling = false;
    await sampler.catch(() => undefined);
    await teardown();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await databases.close();
    journal.fault.fired = ctx.fired;
    journal.load = { sent: records.length, summary: summarize(records) };
    journal.finishedAt = new Date().toISOString();
    journal.durationS = Math.round((Date.now() - started) / 100) / 10;
    journal.reportDir = writeReport(layout, journal, records);
  }
  return journal;
}
