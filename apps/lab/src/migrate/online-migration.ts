// `lab migrate`: runs steps of the orders line_count rollout (apps/orders/src/online-migration) through the orders
// service's own migration job, optionally under load, and judges the run by what the users and the pipeline saw:
// failed requests, the longest lock wait in the orders database, replication slot and relay lag.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportsDir, type LabLayout } from '../layout/lab-layout';
import type { LocalTarget } from '../local/local-target';
import { LabError } from '../process/lab-error';
import { histogramBuckets, histogramQuantile } from '../bench/bench-stats';
import { runLoad, summarize, RequestRecord } from '@faultline/load';

import { MigrationWatch, WatchSummary } from './migration-watch';
import { labTokenSigner } from '../access/access-tokens';

export type MigrationEvent = { event: string; [key: string]: unknown };

export interface JobResult {
  code: number;
  events: MigrationEvent[];
  result?: MigrationEvent;
  error?: string;
}

export interface MigrateOptions {
  /** Orders per second through the gateway while the steps run (0: no load). */
  loadRate: number;
  lockBudgetMs: number;
  lockTimeoutMs: number;
  batchSize: number;
  batchPauseMs: number;
  onEvent: (e: MigrationEvent) => void;
  /** Extra environment for the job (tests use it to interrupt a backfill). */
  jobEnv?: Record<string, string>;
}

export interface MigrationRun {
  what: string;
  steps: { step: string; direction: string; ms: number }[];
  ok: boolean;
  error?: string;
  durationS: number;
  watch: WatchSummary;
  /** Order requests scheduled while the steps ran (the warm-up before the first step is counted apart). */
  requests: {
    sent: number;
    failed: number;
    byStatus: Record<string, number>;
    p50Ms: number;
    p99Ms: number;
    warmUp: { sent: number; failed: number };
  } | null;
  relayLagP99Ms: number | null;
  verdict: 'WITHIN BUDGET' | 'OVER BUDGET' | 'FAILED';
  reasons: string[];
  reportFile: string;
}

function ordersEnv(local: LocalTarget): Record<string, string> {
  const orders = local.services().find((s) => s.name === 'orders');
  if (!orders) throw new LabError('migrate', 'the lab has no orders service');
  return orders.env;
}

/** Runs the orders migration job once (`status`, `apply <step>`, …), streaming its JSON events. */
export function runMigrationJob(
  layout: LabLayout,
  local: LocalTarget,
  args: string[],
  options: Partial<MigrateOptions> = {},
): Promise<JobResult> {
  const entry = join(layout.root, 'dist', 'apps', 'orders', 'src', 'online-migration', 'migrate.js');
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...ordersEnv(local),
    ...(options.lockTimeoutMs ? { MIGRATION_LOCK_TIMEOUT_MS: String(options.lockTimeoutMs) } : {}),
    ...(options.batchSize ? { MIGRATION_BATCH_SIZE: String(options.batchSize) } : {}),
    ...(options.batchPauseMs !== undefined ? { MIGRATION_BATCH_PAUSE_MS: String(options.batchPauseMs) } : {}),
    ...options.jobEnv,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const events: MigrationEvent[] = [];
    let buffered = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        try {
          const e = JSON.parse(line) as MigrationEvent;
          events.push(e);
          options.onEvent?.(e);
        } catch {
          stderr += `${line}\n`;
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const error = events.find((e) => e.event === 'error')?.['message'] as string | undefined;
      resolve({
        code: code ?? (signal ? 128 : 1),
        events,
        result: events.find((e) => e.event === 'result'),
        error:
          error ??
          (code === 0
            ? undefined
            : `migration job ended with ${signal ?? `exit code ${code}`}${stderr ? `: ${stderr.trim().slice(-500)}` : ''}`),
      });
    });
  });
}

export async function migrationStatus(layout: LabLayout, local: LocalTarget): Promise<MigrationEvent> {
  const job = await runMigrationJob(layout, local, ['status']);
  if (job.code !== 0 || !job.result) throw new LabError('migrate', job.error ?? 'no status');
  return job.result;
}

async function relayLagBuckets(local: LocalTarget): Promise<Map<number, number> | null> {
  const relay = local.services().find((s) => s.name === 'outbox-relay-orders');
  if (!relay) return null;
  const response = await fetch(`http://127.0.0.1:${relay.httpPort}/metrics`).catch(() => undefined);
  return response?.ok ? histogramBuckets(await response.text(), 'outbox_relay_lag_seconds') : null;
}

/**
 * Runs `jobs` (each one invocation of the migration job) in order, stopping at the first that fails, while the
 * watch samples locks and, with `loadRate`, orders are placed through the gateway.
 */
export async function runMigration(
  layout: LabLayout,
  local: LocalTarget,
  what: string,
  jobs: string[][],
  options: MigrateOptions,
): Promise<MigrationRun> {
  const began = Date.now();
  const ordersUrl = ordersEnv(local)['DATABASE_URL'];
  if (!ordersUrl) throw new LabError('migrate', 'the orders service has no DATABASE_URL');
  const watch = await MigrationWatch.start(ordersUrl, options.lockBudgetMs);
  const lagBefore = await relayLagBuckets(local);
  const stopLoad = new AbortController();
  let loadStarted: ((at: number) => void) | undefined;
  const started = new Promise<number>((r) => (loadStarted = r));
  const load =
    options.loadRate > 0
      ? runLoad(labTokenSigner(layout), {
          baseUrl: `http://127.0.0.1:${layout.ports.gateway}`,
          mix: 'orders',
          rate: options.loadRate,
          durationS: 24 * 3600,
          customers: 50,
          runId: `migrate-${Date.now().toString(36)}`,
          signal: stopLoad.signal,
          onStart: (at) => loadStarted?.(at),
        })
      : undefined;
  const loadStartedAt = load ? await Promise.race([started, load.then(() => Date.now())]) : Date.now();
  // Two seconds of load first: the migration meets requests already flowing, and the warm-up is reported apart.
  if (load) await new Promise((r) => setTimeout(r, 2000));
  const windowStart = Date.now();

  const steps: MigrationRun['steps'] = [];
  let error: string | undefined;
  let windowEnd = Date.now();
  try {
    for (const args of jobs) {
      const job = await runMigrationJob(layout, local, args, {
        ...options,
        onEvent: (e) => {
          if (e.event === 'step-start') watch.mark(String(e['step']));
          if (e.event === 'step-done')
            steps.push({ step: String(e['step']), direction: String(e['direction']), ms: Number(e['ms']) });
          options.onEvent(e);
        },
      });
      if (job.code !== 0) {
        error = job.error;
        break;
      }
    }
  } finally {
    windowEnd = Date.now();
    // One more second of load: requests that were queued behind the last step finish inside the judged window.
    if (load) await new Promise((r) => setTimeout(r, 1000));
    stopLoad.abort();
  }
  const records: RequestRecord[] = load ? (await load).records : [];
  const summary = await watch.stop();
  const lagAfter = await relayLagBuckets(local);
  const relayLag = lagBefore && lagAfter ? histogramQuantile(lagBefore, lagAfter, 0.99) : Number.NaN;

  // Judged: the requests scheduled from the first step's start to one second after the last step ended.
  const inWindow = (r: RequestRecord) => r.t >= windowStart - loadStartedAt && r.t <= windowEnd + 1000 - loadStartedAt;
  const all = records.filter((r) => r.route === 'POST /v1/orders' || r.route === 'dropped');
  const orders = all.filter(inWindow);
  const warmUp = all.filter((r) => r.t < windowStart - loadStartedAt);
  const byStatus: Record<string, number> = {};
  for (const r of orders) byStatus[String(r.status)] = (byStatus[String(r.status)] ?? 0) + 1;
  const failed = orders.filter((r) => !(r.status === 200 || r.status === 201)).length;
  const post = summarize(orders)['POST /v1/orders'];
  const requests = load
    ? {
        sent: orders.length,
        failed,
        byStatus,
        p50Ms: Math.round(post?.p50 ?? 0),
        p99Ms: Math.round(post?.p99 ?? 0),
        warmUp: { sent: warmUp.length, failed: warmUp.filter((r) => !(r.status === 200 || r.status === 201)).length },
      }
    : null;

  const reasons: string[] = [];
  if (error) reasons.push(`the migration failed: ${error}`);
  if (requests && requests.failed > 0)
    reasons.push(`${requests.failed} of ${requests.sent} order requests failed (${JSON.stringify(byStatus)})`);
  if (summary.lockWaitsOverBudget > 0)
    reasons.push(
      `${summary.lockWaitsOverBudget} lock waits over the ${options.lockBudgetMs} ms budget (longest ${summary.longestLockWaitMs} ms)`,
    );
  const verdict: MigrationRun['verdict'] = error ? 'FAILED' : reasons.length ? 'OVER BUDGET' : 'WITHIN BUDGET';

  const dir = join(reportsDir(layout), `${new Date(began).toISOString().replace(/[:.]/g, '-')}-migrate-${what}`);
  mkdirSync(dir, { recursive: true });
  const run: MigrationRun = {
    what,
    steps,
    ok: !error,
    ...(error ? { error } : {}),
    durationS: (Date.now() - began) / 1000,
    watch: summary,
    requests,
    relayLagP99Ms: Number.isFinite(relayLag) ? Math.round(relayLag * 1000) : null,
    verdict,
    reasons,
    reportFile: join(dir, 'migration.json'),
  };
  writeFileSync(run.reportFile, JSON.stringify({ ...run, records }, null, 2));
  return run;
}

export function formatRun(run: MigrationRun): string {
  const w = run.watch;
  const lines = [
    `${run.verdict}: ${run.what} in ${run.durationS.toFixed(1)} s`,
    ...run.steps.map(
      (s) => `  ${s.direction === 'apply' ? '✓' : '↶'} ${s.step.padEnd(16)} ${(s.ms / 1000).toFixed(2)} s`,
    ),
    run.requests
      ? `  requests        ${run.requests.sent} orders placed while the steps ran, ${run.requests.failed} failed; p50 ${run.requests.p50Ms} ms, p99 ${run.requests.p99Ms} ms (warm-up before: ${run.requests.warmUp.sent} sent, ${run.requests.warmUp.failed} failed)`
      : '  requests        no load (use --load <orders/s>)',
    `  lock waits      longest ${w.longestLockWaitMs} ms (application: ${w.longestApplicationWaitMs} ms), ${w.lockWaitsOverBudget} over the ${w.budgetMs} ms budget; ${w.samples} samples every ${w.intervalMs} ms`,
    ...w.worstWaits
      .slice(0, 3)
      .map(
        (x) =>
          `    ${String(x.ms).padStart(6)} ms  ${x.app || '?'} during ${x.step}: ${x.mode}  ${x.query.slice(0, 90)}`,
      ),
    `  replication     slot lag up to ${(w.maxSlotLagBytes / 1024).toFixed(0)} KiB; relay lag p99 ${run.relayLagP99Ms ?? 'n/a'} ms`,
    ...run.reasons.map((r) => `  ✗ ${r}`),
    `  report          ${run.reportFile}`,
  ];
  return lines.join('\n');
}
