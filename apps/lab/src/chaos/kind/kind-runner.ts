// `lab chaos run <id> --target kind`: the same experiment as on the local target, on the kind cluster. Preflight
// (context, Chaos Mesh CRDs, the kind JWT key) → a naive variant's component applied over the kind overlay and its
// rollout proven → steady state from `kubectl get` → load on the gateway's NodePort (localhost:8080,
// k8s/kind/cluster.yaml) → `kubectl apply` of the experiment's Chaos Mesh manifests → proof from the objects' status
// (AllInjected, records; a replaced pod for pod-kill, a restarted container for container-kill, the container’s own CPU
// for StressChaos) → `kubectl delete` at heal and AllRecovered → convergence read from the in-cluster Prometheus →
// verdict checks on the same evidence as locally (SQL through psql in the postgres pod, the topics through Kafka's CLI
// in the kafka pod, spans from Jaeger, lock waits sampled by psql, the load's records) → the overlay restored → the
// same journal and report.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dlqTopic, EVENT_TOPICS } from '@faultline/contracts';
import { dlqEntryOf, replayMessage } from '@faultline/messaging';
import { k8sPort } from '../../kind/k8s-ports';
import { KIND_CONTEXT, KIND_URLS, kindOverlayDir, statusFromKubectl } from '../../kind/kind-plan';
import { KindTarget, kindStateDir } from '../../kind/kind-target';
import type { LabLayout } from '../../layout/lab-layout';
import { jwtPrivateKeyFile } from '../../topology/lab-services';
import { busMessageOf } from '../bus';
import { findExperiment } from '../catalog';
import { type Converge, operatorRepair } from '../operator-repair';
import { applyServerSettings, resetServerSettings } from '../server-settings';
import { sendBurst, timingOf } from '../drivers';
import { attackProof, type AttackTarget, type BypassProbe, runAttack } from '../attack';
import {
  DB_SAMPLE_SQL,
  dbSampleOf,
  type EdgeTraffic,
  once,
  pollSpans,
  readStock,
  RunEvidence,
  type SqlQuery,
  sqlEvidence,
} from '../evidence';
import type { Experiment } from '../experiment-schema';
import { RequestRecord, summarize } from '@faultline/load';
import { prepareExperimentLoad, startExperimentLoad } from '../run-load';
import { recommendationsLive } from '../recommendations-probe';
import { writeReport } from '../report';
import { steadyStateCheck, type RunJournal, type RunOptions } from '../journal';
import { decideVerdict } from '../verdict';
import type { Poison } from '../checks';
import { replayHandlerPoison, type ReplayPort } from '../dlq-replay-step';
import { poisonMessages } from '../poisons';
import {
  ARCHIVED_ORDERS_PARAMS,
  ARCHIVED_ORDERS_SQL,
  type MigrationSetupTarget,
  prepareMigrationOn,
} from '../../migrate/migration-fault';
import {
  ChaosState,
  GONE,
  injection,
  parseChaosState,
  parsePods,
  podEvidence,
  PodSnapshot,
  recovery,
} from './chaos-mesh-status';
import {
  CHAOS_ANNOTATION_TAG,
  ChaosObject,
  CpuRate,
  chaosObjects,
  grafanaAnnotations,
  holdSeconds,
  INSTALL_CHAOS_MESH,
  judgeConnectProbe,
  judgeStressCpu,
  KIND_LOCK_WATCH_INTERVAL_MS,
  kubectlPlan,
  lockWatchInput,
  lockWatchSummary,
  missingTopics,
  parseConnectProbe,
  parseCpuStat,
  parseLockSamples,
  consoleLine,
  duringProbe,
  parseGroupOffsets,
  renderVariantOverlay,
  variantLeftovers,
  variantMismatches,
} from './kind-chaos-plan';
import { evaluateKind } from './kind-checks';
import { kindReadTopics, kindTopicEnds } from './kind-kafka';
import { kindSql, PsqlSession } from './kind-sql';
import { jaegerPort, kindSpans } from './jaeger';
import { kindLinks, provisionedDashboards } from './links';
import { isNotFound, Kubectl, lastLines } from './kubectl';
import { parseQueryResponse, QUERIES, Sample, single } from '../prometheus-queries';
import { prometheusPort, queryPath } from './prometheus';

export interface KindRunConfig {
  kubectl: Kubectl;
  /** The gateway as the host reaches it: kind maps 127.0.0.1:8080 to the gateway Service's NodePort 30080. */
  gatewayUrl: string;
  /** Chaos Mesh injects within seconds; 30 s covers a busy node pulling nothing new. Past it: not proven. */
  injectTimeoutS: number;
  /** After `kubectl delete`: NetworkChaos removes tc rules, StressChaos kills stressors; seconds each. */
  recoverTimeoutS: number;
  /** Convergence holds only if it still holds one scrape interval (5 s) later: Prometheus answers are that old. */
  stableS: number;
  pollMs: number;
}

/** Read once, at the command's start (LAB_KUBECTL, LAB_KIND_GATEWAY_URL, LAB_KIND_INJECT_TIMEOUT_S). */
export function kindRunConfig(layout: LabLayout, env: NodeJS.ProcessEnv = process.env): KindRunConfig {
  const seconds = (name: string, fallback: number) => {
    const raw = env[name];
    const value = raw ? Number(raw) : fallback;
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`${name} must be a positive number of seconds, got "${raw}"`);
    return value;
  };
  return {
    kubectl: Kubectl.fromEnv(layout.root, env),
    gatewayUrl: env['LAB_KIND_GATEWAY_URL'] || KIND_URLS.gateway,
    injectTimeoutS: seconds('LAB_KIND_INJECT_TIMEOUT_S', 30),
    recoverTimeoutS: seconds('LAB_KIND_RECOVER_TIMEOUT_S', 60),
    stableS: 6,
    pollMs: 1000,
  };
}

/**
 * Why the kind runner does not run an experiment, or undefined when it does. Five faults need no Chaos Mesh object: a
 * burst of load and an attacker (the runner sends both to the NodePort), a poison alone (the console producer in the
 * kafka pod), a service's database connections reset (its sessions terminated with psql in the postgres pod) and the
 * migration (its job in an orders pod).
 */
export function kindRefusal(experiment: Experiment, objects: readonly ChaosObject[]): string | undefined {
  const noObjectNeeded =
    ['overload', 'attack', 'poison-message', 'migrate'].includes(experiment.fault.local.driver) ||
    sessionResetEdge(experiment) !== undefined;
  return objects.length === 0 && !noObjectNeeded
    ? `no Chaos Mesh object injects this fault on kind: ${experiment.fault.kind.without ?? 'none named'}`
    : undefined;
}

/**
 * The service whose database connections the fault resets (a proxy `reset` on `<service>->postgres` locally), which
 * the kind runner does by terminating that service's sessions: Chaos Mesh has no fault that resets connections.
 */
export function sessionResetEdge(experiment: Experiment): string | undefined {
  const f = experiment.fault.local;
  return f.driver === 'proxy' &&
    f.fault.kind === 'reset' &&
    f.edge.endsWith('->postgres') &&
    experiment.fault.kind.manifests.length === 0
    ? f.edge.split('->')[0]
    : undefined;
}

/**
 * One psql statement that holds the reset for `ms`: every 5 ms it terminates every session of one application
 * (its `application_name`), new ones included (the snapshot of pg_stat_activity cleared each time), and prints how
 * many it cut. Polling from the runner instead (one kubectl exec per round) leaves a pool's new connections whole
 * for hundreds of milliseconds, and a handler may never fail.
 */
export function resetSessionsSql(app: string, ms: number): string {
  if (!/^[a-z][a-z0-9-]*$/.test(app) || !Number.isInteger(ms) || ms <= 0)
    throw new Error('resetSessionsSql takes an application name and a duration in ms');
  return [
    'CREATE FUNCTION pg_temp.lab_reset_sessions(app text, ms int) RETURNS int LANGUAGE plpgsql AS $lab$',
    "DECLARE cut int := 0; stop timestamptz := clock_timestamp() + ms * interval '1 millisecond';",
    'BEGIN',
    '  WHILE clock_timestamp() < stop LOOP',
    '    PERFORM pg_stat_clear_snapshot();',
    '    cut := cut + (SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = app AND pid <> pg_backend_pid());',
    '    PERFORM pg_sleep(0.005);',
    '  END LOOP;',
    '  RETURN cut;',
    'END $lab$;',
    `SELECT pg_temp.lab_reset_sessions('${app}', ${ms});`,
  ].join('\n');
}

/** Why the kind target cannot run at all, with the command that fixes it; undefined when it can. */
export async function preflight(
  config: KindRunConfig,
  kindLayout: LabLayout,
  objects: ChaosObject[],
): Promise<string | undefined> {
  const { kubectl } = config;
  if (!kubectl.available())
    return `kubectl not found (${kubectl.binary}): install kubectl v1.32 or newer (https://kubernetes.io/docs/tasks/tools/) or point LAB_KUBECTL at it`;
  const contexts = await kubectl.run(kubectlPlan.contexts());
  if (contexts.code !== 0) return `\`kubectl config get-contexts\` failed: ${lastLines(contexts.stderr)}`;
  if (
    !contexts.stdout
      .split('\n')
      .map((l) => l.trim())
      .includes(KIND_CONTEXT)
  ) {
    return `no kubectl context "${KIND_CONTEXT}": create the cluster with \`lab up --target kind\` (kind create cluster --config k8s/kind/cluster.yaml)`;
  }
  const crds = objects.length ? await kubectl.run(kubectlPlan.crds(objects)) : { code: 0, stderr: '' };
  if (crds.code !== 0) {
    return `the Chaos Mesh CRDs (${[...new Set(objects.map((o) => o.resource))].join(', ')}) are not installed in ${KIND_CONTEXT}: ${lastLines(crds.stderr, 1)}; install Chaos Mesh with \`lab up --target kind\` or: ${INSTALL_CHAOS_MESH}`;
  }
  if (!existsSync(jwtPrivateKeyFile(kindLayout)))
    return `no kind signing key at ${jwtPrivateKeyFile(kindLayout)}: run \`lab up --target kind\`, which generates it`;
  return undefined;
}

export async function chaosState(kubectl: Kubectl, o: ChaosObject): Promise<ChaosState> {
  const r = await kubectl.run(kubectlPlan.get(o));
  if (isNotFound(r)) return GONE;
  if (r.code !== 0) throw new Error(`cannot read ${o.kind} ${o.name}: ${lastLines(r.stderr)}`);
  return parseChaosState(r.stdout);
}

async function pods(kubectl: Kubectl, o: ChaosObject): Promise<PodSnapshot[]> {
  return parsePods(await kubectl.output(kubectlPlan.pods(o)));
}

/**
 * A StressChaos's target as `kubectl exec` names it: its first ready pod, the app's container, that container's CPU
 * limit.
 */
interface StressTarget {
  pod: string;
  container: string;
  limitCores?: number;
}

async function stressTarget(kubectl: Kubectl, o: ChaosObject): Promise<StressTarget> {
  const pod = (await pods(kubectl, o)).find((p) => p.ready && !p.deleting);
  if (!pod)
    throw new Error(
      `no ready pod matches ${Object.entries(o.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}`,
    );
  const container = o.containerNames[0] ?? o.labels['app.kubernetes.io/name'] ?? Object.keys(pod.cpuLimits)[0] ?? '';
  return {
    pod: pod.name,
    container,
    ...(pod.cpuLimits[container] !== undefined ? { limitCores: pod.cpuLimits[container] } : {}),
  };
}

/** The target container's CPU use over about a second: its cgroup's usage read twice, inside the pod. */
async function cpuRate(kubectl: Kubectl, target: StressTarget, windowMs = 1000): Promise<CpuRate> {
  const read = async () => ({
    usec: parseCpuStat(await kubectl.output(kubectlPlan.cgroupCpu(target.pod, target.container))),
    t: Date.now(),
  });
  const first = await read();
  await sleep(windowMs);
  const second = await read();
  const overMs = Math.max(1, second.t - first.t);
  return { cores: (second.usec - first.usec) / 1000 / overMs, overMs };
}

async function steadyState(
  name: string,
  kubectl: Kubectl,
  gatewayUrl: string,
  kindLayout: LabLayout,
): Promise<{ probe: string; ok: boolean; detail: string }> {
  try {
    const statuses = statusFromKubectl(await kubectl.output(kubectlPlan.workloads()));
    switch (name) {
      case 'services-ready': {
        const bad = statuses.filter((s) => !s.healthy).map((s) => `${s.name} (${s.detail ?? s.state})`);
        if (statuses.length === 0)
          return { probe: name, ok: false, detail: 'no workload in namespace faultline: run `lab up --target kind`' };
        return {
          probe: name,
          ok: bad.length === 0,
          detail: bad.length ? `not ready: ${bad.join(', ')}` : `${statuses.length} workloads ready (kubectl get)`,
        };
      }
      case 'kafka-reachable': {
        // The topics as the broker lists them: the Job that created them is gone a day after `lab up`.
        const kafka = statuses.find((s) => s.name === 'kafka');
        const listed = await kubectl.run(kubectlPlan.kafkaTopics());
        const missing = listed.code === 0 ? missingTopics(listed.stdout) : [];
        const topics =
          listed.code !== 0
            ? `topics NOT listed: ${lastLines(listed.stderr, 1)}`
            : missing.length
              ? `topics missing: ${missing.join(', ')}`
              : 'every lab topic listed by the broker';
        return {
          probe: name,
          ok: Boolean(kafka?.healthy) && listed.code === 0 && missing.length === 0,
          detail: `kafka StatefulSet ${kafka?.healthy ? 'ready' : 'NOT ready'}, ${topics}`,
        };
      }
      case 'recommendations-live':
        return await recommendationsLive(kindLayout, gatewayUrl);
    }
    return { probe: name, ok: false, detail: 'unknown probe' };
  } catch (error) {
    return { probe: name, ok: false, detail: (error as Error).message };
  }
}

function emptyJournal(
  id: string,
  runId: string,
  experiment: Experiment,
  quick: boolean,
  sabotaged: boolean,
  started: number,
  events: RunJournal['events'],
): RunJournal {
  return {
    id,
    runId,
    target: 'kind',
    quick,
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
    fault: {
      driver: `chaos-mesh (${experiment.fault.kind.manifests.join(', ')})`,
      fired: false,
      evidence: [],
      window: {},
    },
    convergence: { waitedS: 0, converged: false },
    checks: [],
    load: { sent: 0, summary: {} },
    dbSamples: [],
    events,
  };
}

export async function runKindExperiment(
  layout: LabLayout,
  id: string,
  options: RunOptions,
  config: KindRunConfig = kindRunConfig(layout),
): Promise<RunJournal> {
  const { dir, experiment } = findExperiment(layout.root, id);
  const { kubectl } = config;
  const kindLayout = new KindTarget(layout).secretsLayout();
  const started = Date.now();
  const runId = randomBytes(3).toString('hex');
  const events: RunJournal['events'] = [];
  const log = (message: string) => {
    events.push({ t: new Date().toISOString(), message });
    options.log(message);
  };
  const sabotaged = options.sabotage ?? process.env['LAB_CHAOS_SABOTAGE'] === 'no-op-driver';
  const journal = emptyJournal(id, runId, experiment, options.quick, sabotaged, started, events);
  const { evidence, window } = journal.fault;
  let loadStartedAt = Number.POSITIVE_INFINITY;
  const since = () => Date.now() - loadStartedAt;
  const objects = chaosObjects(dir, experiment);
  const applied = new Set<ChaosObject>();
  const deleted = new Set<ChaosObject>();
  let records: RequestRecord[] = [];
  /** The overload burst's requests, beside the experiment's load. */
  const extraRecords: RequestRecord[] = [];
  let sampling = true;
  let sampler: Promise<void> = Promise.resolve();
  let recovered = false;
  const sql = kindSql(kubectl);
  const promPort = prometheusPort(layout.root);
  const prometheus = async (promql: string): Promise<Sample[]> =>
    parseQueryResponse(await kubectl.output(kubectlPlan.prometheus(queryPath(promPort, promql))));
  const facts: Record<string, unknown> = {};
  let variantApplied = false;
  const serverSettings = Object.keys(experiment.variant?.['postgres'] ?? {});
  let serverSettingsApplied = false;
  let loadDurationS = 0;
  const stopLoad = new AbortController();
  // Once, whichever comes first (the end of the run, Ctrl-C, SIGTERM): no fault left applied, no variant left rolled
  // out.
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      stopLoad.abort();
      for (const o of applied) if (!deleted.has(o)) await kubectl.run(kubectlPlan.delete(o)).catch(() => undefined);
      if (serverSettingsApplied) {
        await resetServerSettings(sql, serverSettings)
          .then(() => evidence.push(`server settings after the run: reset (${serverSettings.join(', ')})`))
          .catch((error: Error) => evidence.push(`server settings after the run: NOT reset (${error.message})`));
      }
      if (variantApplied) {
        const restored = await restoreOverlay(kubectl, layout, experiment, log).catch(
          (error: Error) => `NOT restored: ${error.message}`,
        );
        evidence.push(`overlay after the run: ${restored}`);
        if (restored.startsWith('NOT'))
          journal.reason += `${journal.reason ? '; ' : ''}the kind overlay was ${restored}: run \`lab up --target kind\``;
      }
    })());
  const interrupted = (signal: NodeJS.Signals) => {
    log(`${signal}: deleting the Chaos Mesh objects and restoring the overlay before exiting`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    log(
      `experiment ${id} on kind (run ${runId}${options.quick ? ', quick' : ''}${sabotaged ? ', SABOTAGED: nothing is applied' : ''}): ${experiment.hypothesis}`,
    );
    const refused = kindRefusal(experiment, objects);
    if (refused) {
      journal.reason = refused;
      log(journal.reason);
      return journal;
    }
    const blocked = await preflight(config, kindLayout, objects);
    if (blocked) {
      journal.reason = `preflight: ${blocked}`;
      log(journal.reason);
      return journal;
    }
    if (serverSettings.length) {
      serverSettingsApplied = true;
      log(
        `the naive variant's server settings, for this run: ${(await applyServerSettings(sql, experiment.variant?.['postgres'] ?? {})).join(', ')}`,
      );
    }
    if (experiment.fault.kind.component) {
      // Restored after the run even if the apply breaks halfway: re-applying the plain overlay is harmless.
      variantApplied = true;
      const problem = await applyVariant(config, layout, experiment, evidence, log);
      if (problem) {
        journal.reason = `the naive variant did not take effect on kind: ${problem}; nothing was injected`;
        log(journal.reason);
        return journal;
      }
    }
    for (const name of experiment.steadyState) {
      const result = await steadyState(name, kubectl, config.gatewayUrl, kindLayout);
      journal.steadyState.push(result);
      log(`steady state ${name}: ${result.ok ? 'holds' : 'DOES NOT HOLD'} (${result.detail})`);
    }
    if (journal.steadyState.some((p) => !p.ok)) {
      journal.reason = 'the steady state did not hold before the fault: nothing was injected';
      return journal;
    }

    const load = experiment.load;
    if (experiment.fault.local.driver === 'migrate') {
      // As locally: the rollout back at its start and enough archived orders, by the migration job in an orders pod.
      const fault = experiment.fault.local;
      await prepareMigrationOn(
        kindMigrationTarget(kubectl, sql),
        options.quick ? (fault.quickArchivedOrders ?? fault.archivedOrders) : fault.archivedOrders,
        log,
      );
    }
    await prepareExperimentLoad(kindLayout, config.gatewayUrl, experiment, { facts, log });
    // The baseline convergence compares with: after a rollout the new pod's gauge is not scraped yet, and "no data"
    // would make every PENDING order of earlier runs look like this run's.
    let pendingBefore: number | undefined;
    for (const until = Date.now() + PENDING_BASELINE_WAIT_MS; pendingBefore === undefined && Date.now() < until;) {
      pendingBefore = single(await prometheus(QUERIES.pendingOrders()).catch(() => []));
      if (pendingBefore === undefined) await sleep(config.pollMs);
    }
    if (pendingBefore === undefined)
      log(
        `Prometheus has no orders_by_status series after ${PENDING_BASELINE_WAIT_MS / 1000} s: convergence will expect no PENDING order at all`,
      );
    const stockAtStart = await readStock(sql);
    const edge = experiment.verdict.some((v) => v.check === 'queries-per-request')
      ? await statementBaseline(kubectl, sql, log)
      : undefined;
    const busFrom = await kindTopicEnds(kubectl, EVENT_TOPICS).catch((error: Error) => {
      log(
        `the event topics' ends could not be read before the load, so the checks on them will be INCONCLUSIVE: ${error.message}`,
      );
      return undefined;
    });
    // The load starts now, or (a fault with a lead, as last-item's) once the fault has held `leadS` before it.
    let loadPromise: Awaited<ReturnType<typeof startExperimentLoad>>['done'] | undefined;
    let loadStarted: Promise<void> | undefined;
    const startLoad = () =>
      (loadStarted ??= (async () => {
        const started = await startExperimentLoad(kindLayout, config.gatewayUrl, experiment, {
          quick: options.quick,
          runId,
          progress: options.log,
          onStart: (at) => (loadStartedAt = at),
          signal: stopLoad.signal,
        });
        loadDurationS = started.durationS;
        loadPromise = started.done;
        log(
          `load started on ${config.gatewayUrl}: ${load.mix}${load.mix === 'last-item' ? ` (${load.buyers ?? 50} concurrent buyers)` : ` at ${started.rate}/s for ${started.durationS} s`}, ${load.customers} customers`,
        );
      })());
    const leadS = experiment.fault.local.driver === 'freeze-process' ? (experiment.fault.local.leadS ?? 0) : 0;
    if (leadS === 0) await startLoad();
    if (experiment.verdict.some((v) => v.check === 'orders-db-load-not-amplified' || v.check === 'wal-retained')) {
      sampler = (async () => {
        while (sampling) {
          try {
            const [row] = await sql('orders', DB_SAMPLE_SQL);
            journal.dbSamples.push(dbSampleOf(row, since()));
          } catch {
            /* Postgres may be the fault */
          }
          await sleep(1000);
        }
      })();
    }

    const probeSpec = experiment.fault.kind.probe;
    const probe = probeSpec && {
      from: probeSpec.from,
      host: probeSpec.to.split(':')[0],
      port: servicePort(layout.root, probeSpec.to),
      edge: `${probeSpec.from} → ${probeSpec.to}`,
    };
    const connect = async (tries?: number, timeoutMs?: number) =>
      parseConnectProbe(
        await kubectl.output(kubectlPlan.connectProbe(probe as NonNullable<typeof probe>, tries, timeoutMs)),
      );
    const timing = timingOf(experiment.fault.local, options.quick);
    const holdS = holdSeconds(objects, timing.holdS);
    const localFault = experiment.fault.local;
    // A kill is one-shot in Chaos Mesh: to kill `times` times, as the local driver does, the object is applied,
    // proven, deleted and applied again every intervalS. Every other fault is applied once and held.
    const kills = objects.every((o) => o.action === 'pod-kill' || o.action === 'container-kill');
    const rounds = kills && localFault.driver === 'kill-process' ? localFault.times : 1;
    let poisoned = true;
    const publishPoisons = async (topic: string): Promise<boolean> => {
      const messages = poisonMessages(new Date());
      const poisons: Poison[] = [];
      for (const m of messages) {
        const publishedAt = Date.now();
        const sent = await kubectl.run(kubectlPlan.produce(topic), consoleLine(m.headers, m.orderId, m.value));
        evidence.push(
          sent.code === 0
            ? `${m.kind} poison ${m.type} (event ${m.eventId}) acknowledged on ${topic} (kafka-console-producer in the kafka pod exited 0)`
            : `${m.kind} poison ${m.type} NOT acknowledged on ${topic}: ${lastLines(sent.stderr, 1)}`,
        );
        log(evidence[evidence.length - 1]);
        if (sent.code === 0) poisons.push({ eventId: m.eventId, kind: m.kind, publishedAt });
      }
      facts['poisons'] = poisons;
      return poisons.length === messages.length;
    };
    let provenRounds = 0;
    let recoveredRounds = 0;
    const round = async (i: number) => {
      const tag = rounds > 1 ? ` (kill ${i + 1} of ${rounds})` : '';
      // With a lead the fault goes in before the load; otherwise at its time into the load.
      if (leadS === 0)
        await sleep(Math.max(0, loadStartedAt + (timing.atS + i * timing.intervalS) * 1000 - Date.now()));
      // A poison with a Chaos Mesh object beside it: the poisons first, then the object.
      if (i === 0 && localFault.driver === 'poison-message' && !sabotaged)
        poisoned = await publishPoisons(localFault.topic);
      const probeBefore = probe && !sabotaged ? await connect() : undefined;
      const before = new Map<ChaosObject, PodSnapshot[]>();
      for (const o of objects)
        if (o.action === 'pod-kill' || o.action === 'container-kill') before.set(o, await pods(kubectl, o));
      // A StressChaos is proven on the container's own CPU: its cgroup before, then during the stress.
      const stressed = new Map<ChaosObject, { target: StressTarget; before: CpuRate }>();
      for (const o of objects) {
        if (o.kind !== 'StressChaos') continue;
        const target = await stressTarget(kubectl, o);
        stressed.set(o, { target, before: await cpuRate(kubectl, target) });
      }
      for (const o of objects) {
        // Interrupted (Ctrl-C): the cleanup has run or is running; nothing may be applied after it.
        if (cleaned) throw new Error('interrupted: no further fault is applied');
        if (!sabotaged) await kubectl.output(kubectlPlan.apply(o));
        applied.add(o);
        deleted.delete(o);
        log(
          `${sabotaged ? 'NOT applied (sabotage)' : 'applied'} ${o.kind} ${o.name} (${o.file.slice(layout.root.length + 1)})${tag}`,
        );
      }
      const appliedAt = Date.now();
      if (leadS === 0) window.injectedAt ??= since();
      // As the local driver: trace-continues judges the orders from the last kill on, since the spans a killed pod had
      // not exported yet die with it.
      if (kills && !sabotaged) facts['lastKillAt'] = since();
      // Proof: Chaos Mesh's own status says every target was injected, and for kills the pods show it.
      const proven = new Map<ChaosObject, string>();
      const lastSeen = new Map<ChaosObject, string>();
      const deadline = Date.now() + config.injectTimeoutS * 1000;
      while (proven.size < objects.length && Date.now() < deadline) {
        for (const o of objects.filter((x) => !proven.has(x))) {
          const state = await chaosState(kubectl, o);
          const inj = injection(state);
          lastSeen.set(o, inj.detail);
          if (!inj.injected) continue;
          const stress = stressed.get(o);
          const pod = before.has(o)
            ? podEvidence(o.action, o.containerNames, state.records, before.get(o) ?? [], await pods(kubectl, o))
            : stress
              ? judgeStressCpu(
                  o,
                  `${stress.target.pod}/${stress.target.container}`,
                  stress.target.limitCores,
                  stress.before,
                  await cpuRate(kubectl, stress.target),
                )
              : undefined;
          if (pod) lastSeen.set(o, `${inj.detail}; ${pod.detail}`);
          if (!pod || pod.proven)
            proven.set(o, `${o.kind} ${o.name}${tag}: ${inj.detail}${pod ? `; ${pod.detail}` : ''}`);
        }
        if (proven.size < objects.length) await sleep(config.pollMs);
      }
      for (const o of objects)
        evidence.push(
          proven.get(o) ??
            `${o.kind} ${o.name}${tag}: NOT proven within ${config.injectTimeoutS} s: ${lastSeen.get(o) ?? 'never read'}`,
        );
      // Chaos Mesh's word is not enough for a NetworkChaos (a rule on the wrong side reports success and delays
      // nothing): the services' own path must show it.
      let onPath = true;
      const network = objects.find((o) => o.kind === 'NetworkChaos');
      if (probe && network && proven.size === objects.length) {
        const probeWindow = duringProbe(network, loadStartedAt + (timing.atS + holdS) * 1000 - Date.now());
        const judged = !probeBefore
          ? { onPath: false, detail: 'no connect probe before the fault' }
          : !probeWindow
            ? { onPath: false, detail: `the fault's window was over before the path could be probed (held ${holdS} s)` }
            : judgeConnectProbe(
                network,
                probe.edge,
                probeBefore,
                await connect(probeWindow.tries, probeWindow.timeoutMs),
              );
        onPath = judged.onPath;
        evidence.push(`probe from deployment/${probe.from}: ${judged.detail}`);
      }
      if (proven.size === objects.length && onPath && poisoned) provenRounds++;
      log(
        `fault${tag} ${proven.size === objects.length ? 'fired' : 'NOT PROVEN'}: ${objects.map((o) => proven.get(o) ?? lastSeen.get(o)).join('; ')}`,
      );
      if (proven.size === objects.length && localFault.driver === 'migrate') await migrateOnKind(localFault);
      if (leadS > 0) {
        // The lead: the fault held this long before the first request, then the load, then the hold.
        await sleep(Math.max(0, appliedAt + leadS * 1000 - Date.now()));
        await startLoad();
        window.injectedAt = appliedAt - loadStartedAt;
      }
      if (!kills) await sleep(Math.max(0, loadStartedAt + (timing.atS + holdS) * 1000 - Date.now()));
      for (const o of objects) {
        await kubectl.output(kubectlPlan.delete(o));
        deleted.add(o);
      }
      window.healedAt = since();
      log(`deleted ${objects.map((o) => `${o.kind} ${o.name}`).join(', ')}${tag}; waiting for AllRecovered`);
      const recoverDeadline = Date.now() + config.recoverTimeoutS * 1000;
      const done = new Map<ChaosObject, string>();
      while (done.size < objects.length && Date.now() < recoverDeadline) {
        for (const o of objects.filter((x) => !done.has(x))) {
          const state = await chaosState(kubectl, o);
          const r = recovery(state);
          // Before the next kill the object must be gone, not just recovered: applying over one still terminating
          // would be swallowed by its deletion.
          if (r.recovered && (state.gone || i === rounds - 1))
            done.set(o, `${o.kind} ${o.name}${tag} recovered: ${r.detail}`);
          else lastSeen.set(o, r.recovered ? `${r.detail}, still terminating` : r.detail);
        }
        if (done.size < objects.length) await sleep(config.pollMs);
      }
      for (const o of objects)
        evidence.push(
          done.get(o) ??
            `${o.kind} ${o.name}${tag}: NOT recovered within ${config.recoverTimeoutS} s: ${lastSeen.get(o)}`,
        );
      if (done.size === objects.length) recoveredRounds++;
    };
    // The migration the local driver runs, run by the orders image's own migration job in an orders pod: `apply next`
    // until the rollout has no next step (online), or the one-transaction migration (naive). The lock waits it causes
    // are sampled meanwhile by psql in the Postgres pod (LOCK_WATCH_SETUP). True when every step reported its result.
    const migrateOnKind = async (fault: Extract<typeof localFault, { driver: 'migrate' }>): Promise<boolean> => {
      const watching = new AbortController();
      const watch = kubectl.run(kubectlPlan.lockWatch(), lockWatchInput(watching.signal));
      const steps: { step: string; startedAt: number; ms: number }[] = [];
      for (let i = 0; i < 10; i++) {
        const startedAt = Date.now();
        const out = await kubectl.output(
          fault.plan === 'naive' ? kubectlPlan.migrate('naive') : kubectlPlan.migrate('apply', 'next'),
        );
        const result = migrationResult(out) as { step?: string; next?: string | null } | undefined;
        steps.push({ step: result?.step ?? '?', startedAt, ms: Date.now() - startedAt });
        evidence.push(
          `migration step ${result?.step ?? '?'} (${Date.now() - startedAt} ms via kubectl exec in deployment/orders)`,
        );
        if (fault.plan === 'naive' || !result?.next) break;
      }
      watching.abort();
      const watched = await watch;
      const summary = lockWatchSummary(
        parseLockSamples(watched.stdout),
        steps,
        KIND_LOCK_WATCH_INTERVAL_MS,
        fault.lockBudgetMs,
      );
      const outlastedLoadMs = since() > loadDurationS * 1000 ? since() - loadDurationS * 1000 : undefined;
      evidence.push(
        `${summary.samples} lock samples every ${KIND_LOCK_WATCH_INTERVAL_MS} ms by psql in the postgres pod${watched.code === 0 ? '' : ` (the watch exited ${watched.code}: ${lastLines(watched.stderr, 1)})`}`,
      );
      if (outlastedLoadMs)
        evidence.push(`the migration outlasted the load by ${(outlastedLoadMs / 1000).toFixed(1)} s`);
      facts['migration'] = {
        steps: steps.map(({ step, ms }) => ({ step, direction: 'apply', ms })),
        watch: summary,
        relayLagP99Ms: null,
        ...(outlastedLoadMs ? { outlastedLoadMs } : {}),
      };
      return steps.length > 0 && steps.every((x) => x.step !== '?');
    };
    // The migration experiments: the migration itself is the fault, as locally.
    const migrateOnly = async (fault: Extract<typeof localFault, { driver: 'migrate' }>) => {
      await sleep(Math.max(0, loadStartedAt + timing.atS * 1000 - Date.now()));
      window.injectedAt = since();
      if (sabotaged) evidence.push('the migration was not run (sabotage)');
      else journal.fault.fired = await migrateOnKind(fault);
      window.healedAt = since();
      recovered = true;
    };
    // dlq-replay: the poisons are the whole fault, published by the console producer in the kafka pod.
    const poisonOnly = async (fault: Extract<typeof localFault, { driver: 'poison-message' }>) => {
      await sleep(Math.max(0, loadStartedAt + timing.atS * 1000 - Date.now()));
      window.injectedAt = since();
      if (sabotaged) evidence.push('no poison was published (sabotage)');
      else journal.fault.fired = await publishPoisons(fault.topic);
      window.healedAt = since();
      recovered = true;
    };
    // transient-failure: the service's database sessions terminated again and again for the hold, as the local
    // proxy's reset cuts its connections; fired when Postgres says it cut some.
    const resetSessions = async (app: string) => {
      await sleep(Math.max(0, loadStartedAt + timing.atS * 1000 - Date.now()));
      window.injectedAt = since();
      let cut = 0;
      if (sabotaged) await sleep(timing.holdS * 1000);
      else {
        const r = await kubectl.run(kubectlPlan.psql('postgres', resetSessionsSql(app, timing.holdS * 1000)));
        cut = r.code === 0 ? Number(r.stdout.trim().split('\n').pop()) || 0 : 0;
        if (r.code !== 0) evidence.push(`the session reset failed: ${lastLines(r.stderr, 1)}`);
      }
      window.healedAt = since();
      journal.fault.fired = cut > 0;
      evidence.push(
        sabotaged
          ? 'no session was terminated (sabotage)'
          : `pg_terminate_backend cut ${cut} database sessions of ${app} over ${timing.holdS} s, every 5 ms (psql in the postgres pod)`,
      );
      log(`sessions reset: ${evidence[evidence.length - 1]}`);
      recovered = true;
    };
    const burst = async (fault: Extract<typeof localFault, { driver: 'overload' }>) => {
      await sleep(Math.max(0, loadStartedAt + timing.atS * 1000 - Date.now()));
      const rate = (options.quick ? fault.quickRate : undefined) ?? fault.rate;
      window.injectedAt = since();
      if (sabotaged) {
        await sleep(timing.holdS * 1000);
        evidence.push('no burst was sent (sabotage)');
      } else {
        const sent = await sendBurst(kindLayout, config.gatewayUrl, `${runId}-b`, rate, timing.holdS, since());
        extraRecords.push(...sent.records);
        evidence.push(`${sent.evidence}, to ${config.gatewayUrl}`);
        journal.fault.fired = sent.fired;
      }
      window.healedAt = since();
      log(`burst ${journal.fault.fired ? 'fired' : 'NOT PROVEN'}: ${evidence[evidence.length - 1]}`);
      recovered = true;
    };
    // auth-attack: the attacker at the NodePort, then the internal ports from pods the NetworkPolicies keep off them.
    const attackOnKind = async (fault: Extract<typeof localFault, { driver: 'attack' }>) => {
      await sleep(Math.max(0, loadStartedAt + timing.atS * 1000 - Date.now()));
      window.injectedAt = since();
      if (sabotaged) {
        await sleep(timing.holdS * 1000);
        evidence.push('no attack was made (sabotage)');
      } else {
        const attack = await runAttack(
          kindAttackTarget(kubectl, sql, kindLayout, config.gatewayUrl, runId, layout.root, log),
          runId,
          { controls: [] },
          fault.rate,
          timing.holdS,
          loadStartedAt,
        );
        facts['attack'] = attack;
        const proof = attackProof(attack, fault.rate, timing.holdS);
        journal.fault.fired = proof.fired;
        evidence.push(...proof.evidence.map((e, i) => (i === 0 ? `${e}, to ${config.gatewayUrl}` : e)));
      }
      window.healedAt = since();
      log(`attack ${journal.fault.fired ? 'fired' : 'NOT PROVEN'}: ${evidence[evidence.length - 1]}`);
      recovered = true;
    };
    const fault = async () => {
      if (localFault.driver === 'overload') return burst(localFault);
      if (localFault.driver === 'attack') return attackOnKind(localFault);
      if (localFault.driver === 'poison-message' && objects.length === 0) return poisonOnly(localFault);
      if (localFault.driver === 'migrate' && objects.length === 0) return migrateOnly(localFault);
      const resetApp = sessionResetEdge(experiment);
      if (resetApp) return resetSessions(resetApp);
      for (let i = 0; i < rounds; i++) await round(i);
      journal.fault.fired = provenRounds === rounds;
      recovered = recoveredRounds === rounds;
    };
    const faultPromise = fault().catch((error: Error) => {
      evidence.push(`driver error: ${error.message}`);
      log(`fault driver failed: ${error.message}`);
    });
    const { endAfterHealS } = experiment.load;
    if (endAfterHealS !== undefined)
      void faultPromise.then(() => sleep(endAfterHealS * 1000)).then(() => stopLoad.abort());
    // A lead's load starts inside the fault's round; if the round broke first, the load still runs.
    await faultPromise.then(() => startLoad());
    const [result] = await Promise.all([loadPromise as NonNullable<typeof loadPromise>, faultPromise]);
    records = [...result.records, ...extraRecords].sort((a, b) => a.t - b.t);
    if (edge?.statements) edge.statements.atLoadEnd = await ordersStatements(sql);
    log(`load finished: ${records.length} requests`);

    // Convergence, from the in-cluster Prometheus: no more orders PENDING than before the run, no unrelayed outbox
    // row, no consumer lag; holding for one scrape interval, since Prometheus' answers are up to that old.
    const timeoutS =
      (options.quick ? experiment.convergence.quick?.timeoutS : undefined) ?? experiment.convergence.timeoutS;
    let last = '';
    const converge: Converge = async (extraS = 0) => {
      const from = Date.now();
      let heldSince: number | undefined;
      while (Date.now() - from < (timeoutS + extraS) * 1000) {
        try {
          const pending = single(await prometheus(QUERIES.pendingOrders()));
          const backlog = single(await prometheus(QUERIES.outboxBacklogAge()));
          const lag = single(await prometheus(QUERIES.consumerLag()));
          last = `PENDING orders ${pending ?? 'no data'} (before the run: ${pendingBefore ?? 'no data'}), oldest unrelayed outbox row ${backlog ?? 'no data'} s, consumer lag ${lag ?? 'no data'}`;
          const holds = pending !== undefined && pending <= (pendingBefore ?? 0) && backlog === 0 && lag === 0;
          heldSince = holds ? (heldSince ?? Date.now()) : undefined;
          if (heldSince !== undefined && Date.now() - heldSince >= config.stableS * 1000) return true;
        } catch (error) {
          last = (error as Error).message;
        }
        await sleep(config.pollMs);
      }
      return false;
    };
    const convergeStart = Date.now();
    let converged = await converge();
    // The topics from where they ended before the load; no start offsets (kafka-get-offsets.sh failed): no bus.
    const readBus = async () =>
      busFrom ? (await kindReadTopics(kubectl, EVENT_TOPICS, busFrom)).map(busMessageOf) : undefined;
    // Read once, when the checks first ask: after the operator's repair, whose republished events it must include.
    const bus = once(readBus);
    if (
      (localFault.driver === 'kill-process' || localFault.driver === 'freeze-process') &&
      localFault.repair &&
      journal.fault.fired
    ) {
      // incident-repair, relay-outage-wal-capped: the operator's step, as locally; the repair writes each order's
      // events in a transaction, so the orders database is one psql session.
      const orders = PsqlSession.open(kubectl, 'orders');
      const through = (database: 'inventory' | 'notifications') => ({
        query: (text: string, params?: unknown[]) => sql(database, text, params),
      });
      try {
        facts['repair'] = await operatorRepair({
          sql,
          bus: async () => (await readBus()) ?? [],
          databases: { orders, inventory: through('inventory'), notifications: through('notifications') },
          runId,
          graceS: localFault.repair.graceS,
          converge,
          log,
        });
      } catch (error) {
        log(`the operator's repair broke: ${(error as Error).message}`);
      } finally {
        await orders.close();
      }
      converged = await converge();
    }
    if (localFault.driver === 'poison-message' && localFault.replay && journal.fault.fired) {
      facts['replay'] = await replayHandlerPoison(
        kindReplayPort(kubectl, sql),
        (facts['poisons'] as Poison[] | undefined) ?? [],
        localFault.topic,
        localFault.replay.times,
        log,
      ).catch((error: Error) => {
        log(`the replay broke: ${error.message}`);
        return undefined;
      });
      converged = await converge();
    }
    const relayLag = single(await prometheus(QUERIES.relayLagP99()).catch(() => []));
    journal.convergence = { waitedS: Math.round((Date.now() - convergeStart) / 100) / 10, converged };
    log(
      `convergence (Prometheus): ${converged ? 'reached' : 'NOT reached'} after ${journal.convergence.waitedS} s: ${last}; relay lag p99 ${relayLag ?? 'no data'} s`,
    );
    sampling = false;
    await sampler;
    for (const name of experiment.steadyState) {
      const after = await steadyState(name, kubectl, config.gatewayUrl, kindLayout);
      journal.steadyStateAfter.push(after);
      log(`steady state after heal, ${name}: ${after.ok ? 'holds' : 'DOES NOT HOLD'} (${after.detail})`);
    }

    const runEvidence: RunEvidence = {
      runId,
      records,
      window,
      loadStartedAt,
      facts,
      dbSamples: journal.dbSamples,
      edge,
      ...sqlEvidence(sql, runId, async () => ((await bus()) ?? []).flatMap((m) => (m.eventId ? [m.eventId] : []))),
      stock: once(async () => ({ start: stockAtStart, end: await readStock(sql) })),
      bus,
      dlq: once(async () => (await kindReadTopics(kubectl, EVENT_TOPICS.map(dlqTopic))).map(dlqEntryOf)),
      spans: pollSpans(
        () => kindSpans(kubectl, jaegerPort(layout.root), loadStartedAt - 5000, Date.now() + 60_000),
        config.pollMs * 2,
      ),
      prometheus,
    };
    journal.checks = [
      ...(await evaluateKind({ evidence: runEvidence, prometheus, now: () => Date.now() }, experiment.verdict)),
      steadyStateCheck(journal.steadyStateAfter),
    ];
    for (const c of journal.checks)
      log(`check ${c.check}: ${c.inconclusive ? 'INCONCLUSIVE' : c.ok ? 'holds' : 'FAILS'} — ${c.detail}`);
    decide(journal, recovered);
  } catch (error) {
    journal.verdict = 'ABORTED';
    journal.reason = `the run broke: ${(error as Error).message}`;
    log(journal.reason);
  } finally {
    sampling = false;
    await sampler.catch(() => undefined);
    await cleanup();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    journal.load = { sent: records.length, summary: summarize(records) };
    journal.finishedAt = new Date().toISOString();
    journal.durationS = Math.round((Date.now() - started) / 100) / 10;
    // The run on Grafana's dashboards (their "chaos runs" annotation query): start, the fault window, the verdict.
    // Only once a cluster was reached; a failed post is said, never fatal.
    if (journal.steadyState.length > 0) {
      const port = servicePort(layout.root, 'grafana:http');
      const annotations = grafanaAnnotations({
        id,
        runId,
        startedAt: started,
        loadStartedAt,
        window,
        finishedAt: Date.now(),
        verdict: journal.verdict,
        reason: journal.reason,
      });
      const posted = [];
      for (const a of annotations) posted.push(await kubectl.run(kubectlPlan.grafanaAnnotate(port, a)));
      const failed = posted.filter((r) => r.code !== 0);
      log(
        failed.length
          ? `Grafana annotations: ${failed.length} of ${posted.length} NOT posted (${lastLines(failed[0].stderr, 1)})`
          : `Grafana annotations: ${posted.length} posted (tag ${CHAOS_ANNOTATION_TAG}, run-${runId})`,
      );
    }
    try {
      const orderIds = records.flatMap((r) => (r.orderId ? [r.orderId] : []));
      journal.links = kindLinks(provisionedDashboards(layout.root), experiment, started, Date.now(), orderIds);
    } catch (error) {
      log(`no links in the report: ${(error as Error).message}`);
    }
    journal.reportDir = writeReport(layout, journal, records);
  }
  return journal;
}

/** Two scrape intervals and the orders gauge's own refresh: long enough for a pod rolled out just before. */
const PENDING_BASELINE_WAIT_MS = 20_000;

/** `<service>:<port name>` as a port number (the Service's port is its container's). */
/**
 * Connects to the internal gRPC ports from pods with no business there (a compromised neighbour: the NetworkPolicies
 * bind every process of a pod, a `kubectl exec`'d one included) and, as controls, from the gateway, their one caller.
 */
export const BYPASS_PROBES = [
  { from: 'recommendations', to: 'orders:grpc', control: false },
  { from: 'notifications', to: 'orders:grpc', control: false },
  { from: 'recommendations', to: 'inventory:grpc', control: false },
  { from: 'notifications', to: 'inventory:grpc', control: false },
  { from: 'gateway', to: 'orders:grpc', control: true },
  { from: 'gateway', to: 'inventory:grpc', control: true },
] as const;

function kindAttackTarget(
  kubectl: Kubectl,
  sql: SqlQuery,
  kindLayout: LabLayout,
  gatewayUrl: string,
  runId: string,
  root: string,
  log: (m: string) => void,
): AttackTarget {
  return {
    baseUrl: gatewayUrl,
    signingKeyPem: () => readFileSync(jwtPrivateKeyFile(kindLayout), 'utf8'),
    victims: async () =>
      (
        await sql(
          'orders',
          'SELECT id::text AS id, customer_id FROM orders WHERE customer_id LIKE $1 AND customer_id NOT LIKE $2 ORDER BY created_at DESC LIMIT 200',
          [`chaos-${runId}-%`, `chaos-${runId}-x-%`],
        )
      ).map((r) => ({
        id: String(r['id']),
        customer: String(r['customer_id']),
      })),
    revoke: async (jti, expiresAtS) => {
      const r = await kubectl.run(kubectlPlan.revokeToken(jti, expiresAtS));
      if (r.code !== 0) throw new Error(`redis-cli ZADD in deployment/redis failed: ${lastLines(r.stderr, 2)}`);
    },
    bypass: async () => {
      const probes: BypassProbe[] = [];
      for (const p of BYPASS_PROBES) {
        const answer = await kubectl.run(
          kubectlPlan.connectProbe({ from: p.from, host: p.to.split(':')[0], port: servicePort(root, p.to) }, 1, 2000),
        );
        const parsed = answer.code === 0 ? parseConnectProbe(answer.stdout) : undefined;
        const reached = Boolean(parsed && parsed.ms.length > 0);
        probes.push({
          from: `pod of deployment/${p.from}`,
          to: p.to,
          reached,
          control: p.control,
          detail: parsed
            ? reached
              ? `connected in ${parsed.ms[0].toFixed(1)} ms`
              : 'no connection in 2 s'
            : `kubectl exec failed: ${lastLines(answer.stderr, 1)}`,
        });
      }
      return probes;
    },
    log,
  };
}

const servicePort = (root: string, to: string): number => k8sPort(root, to.replace(':', '-'));

/** Statements the orders database ran, by Postgres' own count (the lab's reads of pg_stat_statements left out). */
const ORDERS_STATEMENTS_SQL =
  "SELECT coalesce(sum(calls), 0)::bigint AS n FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'orders') AND query NOT LIKE '%pg_stat_statements%'";
/** How long the orders database's background (consumers, the reconciliation job) is measured before the load. */
const STATEMENT_BASELINE_MS = 5000;

async function ordersStatements(sql: SqlQuery): Promise<number> {
  const n = Number((await sql('orders', ORDERS_STATEMENTS_SQL))[0]?.['n']);
  if (!Number.isFinite(n)) throw new Error('pg_stat_statements returned no count');
  return n;
}

/**
 * What queries-per-request reads on kind, where no fault proxy counts statements on the wire: pg_stat_statements
 * (preloaded by k8s/base/postgres), its background rate over a few seconds before the load. Undefined, with the
 * reason logged, when Postgres cannot count (an older cluster without the preload): the check is then INCONCLUSIVE.
 */
async function statementBaseline(
  kubectl: Kubectl,
  sql: SqlQuery,
  log: (m: string) => void,
): Promise<EdgeTraffic | undefined> {
  try {
    await kubectl.output(kubectlPlan.psql('orders', 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements'));
    const t0 = Date.now();
    const before = await ordersStatements(sql);
    await sleep(STATEMENT_BASELINE_MS);
    const atLoadStart = await ordersStatements(sql);
    const idleRatePerS = ((atLoadStart - before) * 1000) / (Date.now() - t0);
    log(`orders database: ${idleRatePerS.toFixed(1)} statements/s before the load (pg_stat_statements)`);
    return {
      edge: 'orders → postgres',
      samples: [],
      statements: { atLoadStart, atLoadEnd: atLoadStart, idleRatePerS, countedBy: 'pg_stat_statements' },
    };
  } catch (error) {
    log(
      `pg_stat_statements cannot count the orders database's statements (${(error as Error).message}): queries-per-request will be INCONCLUSIVE; \`lab up --target kind\` preloads it`,
    );
    return undefined;
  }
}

/**
 * The replay step through Kafka's console tools in the kafka pod: the corrected message produced `times` times in
 * one console producer, where it landed read from the partitions' ends before and after (the topic is quiet once the
 * run converged), the group's commits from kafka-consumer-groups.sh.
 */
function kindReplayPort(kubectl: Kubectl, sql: SqlQuery): ReplayPort {
  return {
    deadLetters: async (topic) => (await kindReadTopics(kubectl, [topic])).map(dlqEntryOf),
    async replay(entry, payload, times) {
      const { key, value, headers } = replayMessage(entry, payload);
      if (key === null || value === null) throw new Error(`${entry.id} has no key or value to replay`);
      const before = await kindTopicEnds(kubectl, [entry.originalTopic]);
      await kubectl.output(kubectlPlan.produce(entry.originalTopic), consoleLine(headers, key, value).repeat(times));
      const after = await kindTopicEnds(kubectl, [entry.originalTopic]);
      const grown = Object.entries(after[entry.originalTopic] ?? {}).filter(
        ([p, end]) => BigInt(end) - BigInt(before[entry.originalTopic]?.[Number(p)] ?? end) === BigInt(times),
      );
      if (grown.length !== 1) return [];
      const [partition, end] = grown[0];
      return Array.from({ length: times }, (_, i) => ({
        topic: entry.originalTopic,
        partition: Number(partition),
        offset: (BigInt(end) - BigInt(times - i)).toString(),
      }));
    },
    committed: async (group, topic) => parseGroupOffsets(await kubectl.output(kubectlPlan.groupOffsets(group)), topic),
    sql,
  };
}

/** The migration job's final `{"event":"result"}` line. */
const migrationResult = (out: string): Record<string, unknown> | undefined =>
  out
    .split('\n')
    .filter((l) => l.includes('"event":"result"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)[0];

/** The migration job in an orders pod, as prepareMigrationOn drives it. */
function kindMigrationTarget(kubectl: Kubectl, sql: SqlQuery): MigrationSetupTarget {
  return {
    async status() {
      const result = migrationResult(await kubectl.output(kubectlPlan.migrate('status')));
      if (!result) throw new Error('the migration job printed no status');
      return result;
    },
    async run(what, jobs) {
      for (const job of jobs) {
        const r = await kubectl.run(kubectlPlan.migrate(...job));
        if (r.code !== 0)
          return {
            ok: false,
            error: `${what}: \`${job.join(' ')}\` exited ${r.code}: ${lastLines(r.stderr || r.stdout)}`,
          };
      }
      return { ok: true };
    },
    archivedOrders: async () =>
      Number((await sql('orders', ARCHIVED_ORDERS_SQL, ARCHIVED_ORDERS_PARAMS))[0]?.['n'] ?? 0),
  };
}

/** The kind state folder's overlay `lab up` generated, the variant's overlay beside it, the component's folder. */
function variantPaths(layout: LabLayout, component: string) {
  const paths = { root: layout.root, stateDir: kindStateDir(layout) };
  return {
    overlay: kindOverlayDir(paths),
    variant: join(paths.stateDir, 'overlay-variant'),
    component: join(layout.root, 'k8s', 'components', component),
  };
}

/**
 * Rolls the experiment's naive variant out: the component applied over the kind overlay, the rollout of every
 * Deployment it changes awaited, and each pod template read back with the variant's values. A problem, or undefined.
 */
async function applyVariant(
  config: KindRunConfig,
  layout: LabLayout,
  experiment: Experiment,
  evidence: string[],
  log: (m: string) => void,
): Promise<string | undefined> {
  const { kubectl } = config;
  const component = experiment.fault.kind.component ?? '';
  const paths = variantPaths(layout, component);
  if (!existsSync(join(paths.overlay, 'kustomization.yaml')))
    return `no generated overlay at ${paths.overlay}: run \`lab up --target kind\` first`;
  if (!existsSync(join(paths.component, 'kustomization.yaml'))) return `no component k8s/components/${component}`;
  mkdirSync(paths.variant, { recursive: true });
  writeFileSync(
    join(paths.variant, 'kustomization.yaml'),
    renderVariantOverlay(paths.overlay, paths.variant, paths.component),
  );
  log(`applying the naive variant: k8s/components/${component} over the kind overlay`);
  await kubectl.output(kubectlPlan.applyOverlay(paths.variant));
  for (const [workload, vars] of deploymentVariant(experiment)) {
    await kubectl.output(kubectlPlan.rollout(workload));
    const wrong = variantMismatches(await kubectl.output(kubectlPlan.deployment(workload)), workload, vars);
    if (wrong.length) return `deployment/${workload} after its rollout: ${wrong.join('; ')}`;
    evidence.push(
      `variant live: deployment/${workload} rolled out with ${Object.entries(vars)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')} (k8s/components/${component})`,
    );
    log(evidence[evidence.length - 1]);
  }
  return undefined;
}

/** The variant's Deployments and their variables (a `postgres` entry is server settings, set by SQL instead). */
const deploymentVariant = (experiment: Experiment) =>
  Object.entries(experiment.variant ?? {}).filter(([workload]) => workload !== 'postgres');

/** The plain kind overlay again, rolled out, with none of the variant's values left: what the evidence says of it. */
async function restoreOverlay(
  kubectl: Kubectl,
  layout: LabLayout,
  experiment: Experiment,
  log: (m: string) => void,
): Promise<string> {
  const paths = variantPaths(layout, experiment.fault.kind.component ?? '');
  log('restoring the kind overlay (the naive variant off)');
  await kubectl.output(kubectlPlan.applyOverlay(paths.overlay));
  const left: string[] = [];
  for (const [workload, vars] of deploymentVariant(experiment)) {
    await kubectl.output(kubectlPlan.rollout(workload));
    left.push(
      ...variantLeftovers(await kubectl.output(kubectlPlan.deployment(workload)), workload, vars).map(
        (v) => `deployment/${workload} still has ${v}`,
      ),
    );
  }
  return left.length
    ? `NOT restored: ${left.join('; ')}`
    : `restored (${deploymentVariant(experiment)
        .map(([w]) => `deployment/${w}`)
        .join(', ')} rolled back to k8s/overlays/kind)`;
}

/**
 * The verdict, by the one rule of every run; on kind a fault must also be proven healed (Chaos Mesh's AllRecovered).
 */
export function decide(journal: RunJournal, recovered: boolean): void {
  const notFiredReason = !journal.fault.fired
    ? 'the fault was not proven to have fired (Chaos Mesh never reported it injected): nothing this run measured can confirm the hypothesis'
    : 'the fault was not proven healed (Chaos Mesh never reported AllRecovered): what followed was not measured on a healed system';
  const decision = decideVerdict({
    fired: journal.fault.fired && recovered,
    notFiredReason,
    checks: journal.checks,
    expected: journal.experiment.expected,
    mustFail: journal.experiment.mustFail,
  });
  journal.verdict = decision.verdict;
  journal.reason = decision.reason;
  journal.asDesigned = decision.asDesigned;
}
