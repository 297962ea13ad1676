// The kind driver of `lab chaos run` as data: which Chaos Mesh objects an experiment creates, and every kubectl
// invocation that applies, reads and deletes them, computed by pure functions so the sequence is unit-tested on
// machines without a cluster. kind-runner.ts only executes these argv lists through the Kubectl wrapper.
import { REVOKED_TOKENS_KEY } from '@faultline/auth';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { LAB_TOPICS } from '../../infra/kafka';
import { CHAOS_MESH_VALUES, chaosMeshInstallArgv, KIND_NAMESPACE } from '../../kind/kind-plan';
import {
  LOCK_WAITS_SQL,
  LockEpisodes,
  type LockSample,
  SLOT_LAG_SQL,
  type WatchSummary,
} from '../../migrate/migration-watch';
import { LabError } from '../../process/lab-error';
import type { Experiment } from '../experiment-schema';

export const CHAOS_MESH_GROUP = 'chaos-mesh.org';

/** The Chaos Mesh kinds the catalog uses, with the CRD's plural (its resource name). */
export const CHAOS_KINDS: Record<string, string> = {
  PodChaos: 'podchaos',
  NetworkChaos: 'networkchaos',
  StressChaos: 'stresschaos',
};

export interface ChaosObject {
  /** Absolute path of the manifest, as `kubectl apply -f` gets it. */
  file: string;
  kind: string;
  /** `podchaos.chaos-mesh.org`: unambiguous for `kubectl get`. */
  resource: string;
  name: string;
  namespace: string;
  /** PodChaos only: pod-kill, pod-failure, container-kill. */
  action?: string;
  /** The pods it targets (spec.selector.labelSelectors), to read them before and after. */
  labels: Record<string, string>;
  containerNames: string[];
  /** spec.duration in seconds, when the object recovers by itself. */
  durationS?: number;
  /** NetworkChaos only: delay, partition, loss…, and a delay's latency in ms. */
  networkAction?: string;
  latencyMs?: number;
  /** StressChaos only: the CPU its cpu stressors ask for, in cores (workers × load %). */
  stressCpuCores?: number;
}

/** Go durations as Chaos Mesh writes them (`30s`, `1m30s`, `1500ms`) in seconds. */
export function durationSeconds(text: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 1e-6, µs: 1e-6, ns: 1e-9 };
  const parts = [...text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|us|µs|ns|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text)
    throw new LabError('chaos', `"${text}" is not a duration`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]], 0);
}

export function chaosObjectFrom(file: string, text: string): ChaosObject {
  const doc = parse(text) as {
    apiVersion?: string;
    kind?: string;
    metadata?: { name?: string; namespace?: string };
    spec?: {
      action?: string;
      duration?: string;
      containerNames?: string[];
      selector?: { labelSelectors?: Record<string, string> };
      delay?: { latency?: string };
      stressors?: { cpu?: { workers?: number; load?: number } };
    };
  };
  const plural = doc?.kind ? CHAOS_KINDS[doc.kind] : undefined;
  if (!doc?.apiVersion?.startsWith(`${CHAOS_MESH_GROUP}/`) || !plural || !doc.metadata?.name) {
    throw new LabError('chaos', `${file} is not a Chaos Mesh ${Object.keys(CHAOS_KINDS).join('/')} object with a name`);
  }
  return {
    file,
    kind: doc.kind as string,
    resource: `${plural}.${CHAOS_MESH_GROUP}`,
    name: doc.metadata.name,
    namespace: doc.metadata.namespace ?? KIND_NAMESPACE,
    ...(doc.kind === 'PodChaos' && doc.spec?.action ? { action: doc.spec.action } : {}),
    labels: doc.spec?.selector?.labelSelectors ?? {},
    containerNames: doc.spec?.containerNames ?? [],
    ...(doc.spec?.duration ? { durationS: durationSeconds(doc.spec.duration) } : {}),
    ...(doc.kind === 'NetworkChaos' && doc.spec?.action ? { networkAction: doc.spec.action } : {}),
    ...(doc.kind === 'NetworkChaos' && doc.spec?.delay?.latency
      ? { latencyMs: durationSeconds(doc.spec.delay.latency) * 1000 }
      : {}),
    ...(doc.kind === 'StressChaos' && doc.spec?.stressors?.cpu
      ? { stressCpuCores: ((doc.spec.stressors.cpu.workers ?? 1) * (doc.spec.stressors.cpu.load ?? 100)) / 100 }
      : {}),
  };
}

/** The experiment's Chaos Mesh objects, in the order `fault.kind.manifests` lists them. */
export function chaosObjects(experimentDir: string, experiment: Experiment): ChaosObject[] {
  return experiment.fault.kind.manifests.map((name) => {
    const file = join(experimentDir, name);
    return chaosObjectFrom(file, readFileSync(file, 'utf8'));
  });
}

/**
 * Kafka's loopback listener (LOCAL in k8s/base/kafka/statefulset.yaml) for tools run inside the kafka pod: the broker
 * answers a client of it with that same loopback address, so the tool never leaves the pod (no NetworkPolicy, no
 * Service hop back to itself).
 */
export const KAFKA_IN_POD_BOOTSTRAP = '127.0.0.1:9094';

/**
 * A Kafka CLI tool in the kafka container. The container's KAFKA_HEAP_OPTS is the broker's (up to 512 MB); a tool
 * that inherited it could take the container past its memory limit and get the broker OOM-killed with it.
 */
const kafkaTool = (stdin: boolean, tool: string, ...args: string[]) => [
  'exec',
  ...(stdin ? ['--stdin'] : []),
  '--namespace',
  KIND_NAMESPACE,
  'statefulset/kafka',
  '--container',
  'kafka',
  '--',
  'env',
  'KAFKA_HEAP_OPTS=-Xmx128m',
  `/opt/kafka/bin/${tool}`,
  '--bootstrap-server',
  KAFKA_IN_POD_BOOTSTRAP,
  ...args,
];

/** The orders image's migration job (apps/orders/src/online-migration/migrate.ts), run in an orders pod. */
const MIGRATION_JOB = 'online-migration/migrate.js';

/** A kubectl call answers within seconds; this bounds one that hangs. */
export const KUBECTL_TIMEOUT_MS = 60_000;
/**
 * One step of the migration job runs as long as its work: a batched backfill under the experiment's StressChaos takes
 * minutes, and killing kubectl mid-step would leave the step half done. Far beyond the longest migration experiment.
 */
export const MIGRATION_STEP_TIMEOUT_MS = 15 * 60_000;

/**
 * The orders database, as the lock watch's psql connects to it (named as the local watch is, so it never counts
 * itself).
 */
const LOCK_WATCH_DB = 'dbname=orders application_name=lab-migrate-watch';

/** A naive variant's rollout (or the restore's): new pods pulled from the node's own images, started, Ready. */
export const ROLLOUT_TIMEOUT_S = 180;

/** How long the Kubectl wrapper lets one call run. */
export function kubectlTimeoutMs(args: readonly string[]): number {
  if (args.includes(MIGRATION_JOB)) return MIGRATION_STEP_TIMEOUT_MS;
  // The lock watch ends with the migration it watches (its stdin closes): bounded like two of its longest steps.
  if (args.includes(LOCK_WATCH_DB)) return 2 * MIGRATION_STEP_TIMEOUT_MS;
  if (args[0] === 'rollout') return (ROLLOUT_TIMEOUT_S + 20) * 1000;
  return KUBECTL_TIMEOUT_MS;
}

/**
 * A naive variant on kind: the overlay `lab up --target kind` applied (.lab/kind/overlay, images pinned to the build
 * it loaded) plus the experiment's component (k8s/components/<name>), which sets the variant on the pod template so
 * the Deployment rolls. Applied with the same server-side field manager as `lab up`: re-applying the plain overlay
 * afterwards removes exactly the fields the component added, and the pods roll back.
 */
export function renderVariantOverlay(overlayDir: string, variantDir: string, componentDir: string): string {
  return (
    [
      `# Generated by \`lab chaos run --target kind\` for a naive variant: the kind overlay plus one component, removed after the run.`,
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `  - ${JSON.stringify(relative(variantDir, overlayDir))}`,
      'components:',
      `  - ${JSON.stringify(relative(variantDir, componentDir))}`,
    ].join('\n') + '\n'
  );
}

/** What has to be true of a Deployment's pod template for the variant to be live: every variable at its value. */
interface DeploymentJson {
  spec?: { template?: { spec?: { containers?: { name: string; env?: { name: string; value?: string }[] }[] } } };
  status?: { updatedReplicas?: number; readyReplicas?: number; replicas?: number };
}

/** `kubectl get deployment -o json` as its status and one container's env on the pod template. */
function deploymentState(
  deploymentJson: string,
  container: string,
): { env: Map<string, string | undefined>; status: NonNullable<DeploymentJson['status']> } {
  const d = JSON.parse(deploymentJson) as DeploymentJson;
  return {
    env: new Map(
      (d.spec?.template?.spec?.containers?.find((c) => c.name === container)?.env ?? []).map((e) => [e.name, e.value]),
    ),
    status: d.status ?? {},
  };
}

export function variantMismatches(deploymentJson: string, container: string, vars: Record<string, string>): string[] {
  const { env, status } = deploymentState(deploymentJson, container);
  const wrong = Object.entries(vars)
    .filter(([k, v]) => env.get(k) !== v)
    .map(([k, v]) => `${k}=${env.get(k) ?? '(unset)'}, wants ${v}`);
  const { updatedReplicas = 0, readyReplicas = 0, replicas = 0 } = status;
  if (wrong.length === 0 && (updatedReplicas < replicas || readyReplicas < replicas))
    wrong.push(`${updatedReplicas} of ${replicas} pods updated, ${readyReplicas} ready`);
  return wrong;
}

/** Whether the plain overlay is back: none of the variant's variables left on the pod template. */
export function variantLeftovers(deploymentJson: string, container: string, vars: Record<string, string>): string[] {
  const { env } = deploymentState(deploymentJson, container);
  return Object.entries(vars)
    .filter(([k, v]) => env.get(k) === v)
    .map(([k, v]) => `${k}=${v}`);
}

/** An anchored regular expression matching exactly these topics (kafka-get-offsets.sh takes a pattern). */
export const topicsPattern = (topics: readonly string[]) =>
  `^(${topics.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;

/**
 * The console consumer's record line (DefaultMessageFormatter):
 * `CreateTime:<ms>\tPartition:<p>\tOffset:<o>\t<headers>\t<key>\t<value>`, headers as `name:value` joined by
 * HEADER_SEPARATOR (not the default `,`: a DLQ's error header is JSON), NO_HEADERS when there are none, and `null` for
 * a missing key or value. Our values are JSON on one line, so a tab or a newline inside one is always escaped.
 */
export const HEADER_SEPARATOR = '|~|';
export const CONSOLE_RECORD_FORMAT = [
  'print.timestamp=true',
  'print.partition=true',
  'print.offset=true',
  'print.headers=true',
  'print.key=true',
  'print.value=true',
  `headers.separator=${HEADER_SEPARATOR}`,
];
/** A partition holding fewer records than its offsets span (transaction markers) ends the read after this idle time. */
export const CONSUME_IDLE_TIMEOUT_MS = 10_000;

/** Every argv below goes to the Kubectl wrapper, which puts the binary and `--context kind-faultline` first. */
export const kubectlPlan = {
  contexts: () => ['config', 'get-contexts', '--output', 'name'],
  crds: (objects: ChaosObject[]) => [
    'get',
    'customresourcedefinitions',
    ...[...new Set(objects.map((o) => o.resource))],
    '--output',
    'name',
  ],
  apply: (o: ChaosObject) => ['apply', '--filename', o.file],
  get: (o: ChaosObject) => ['get', o.resource, o.name, '--namespace', o.namespace, '--output', 'json'],
  // --wait=false: kubectl would block on Chaos Mesh's finalizer; the runner polls for AllRecovered itself, with a
  // deadline, so a recovery that never comes is reported instead of hanging the run.
  delete: (o: ChaosObject) => ['delete', '--filename', o.file, '--ignore-not-found', '--wait=false'],
  pods: (o: ChaosObject) => [
    'get',
    'pods',
    '--namespace',
    o.namespace,
    '--selector',
    Object.entries(o.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    '--output',
    'json',
  ],
  workloads: () => ['get', 'deployments,statefulsets,jobs,pods', '--namespace', KIND_NAMESPACE, '--output', 'json'],
  /** Server-side apply as `lab up --target kind` does it (same field manager: see renderVariantOverlay). */
  applyOverlay: (dir: string) => [
    'apply',
    '--server-side',
    '--field-manager=faultline-lab',
    '--force-conflicts',
    '--kustomize',
    dir,
  ],
  rollout: (deployment: string) => [
    'rollout',
    'status',
    `deployment/${deployment}`,
    '--namespace',
    KIND_NAMESPACE,
    `--timeout=${ROLLOUT_TIMEOUT_S}s`,
  ],
  deployment: (name: string) => ['get', 'deployment', name, '--namespace', KIND_NAMESPACE, '--output', 'json'],
  prometheus: (path: string) => ['get', '--raw', path],
  /** Jaeger's query API through the same service proxy (jaeger.ts). */
  jaeger: (path: string) => ['get', '--raw', path],
  /** The broker's own list of topics, one per line. */
  kafkaTopics: () => kafkaTool(false, 'kafka-topics.sh', '--list'),
  /** Messages from stdin, one per line (consoleLine), each acknowledged by every in-sync replica before exit 0. */
  produce: (topic: string) =>
    kafkaTool(
      true,
      'kafka-console-producer.sh',
      '--topic',
      topic,
      '--request-required-acks',
      '-1',
      '--property',
      'parse.key=true',
      '--property',
      'parse.headers=true',
    ),
  /**
   * `<group> <topic> <partition> <committed offset> …` per partition of the group (kafka-consumer-groups.sh
   * --describe).
   */
  groupOffsets: (group: string) => kafkaTool(false, 'kafka-consumer-groups.sh', '--describe', '--group', group),
  /**
   * `<topic>:<partition>:<offset>` per line: the end (`latest`) or the start (`earliest`) of each partition of the
   * topics.
   */
  kafkaOffsets: (topics: readonly string[], at: 'latest' | 'earliest') =>
    kafkaTool(false, 'kafka-get-offsets.sh', '--topic', topicsPattern(topics), '--time', at === 'latest' ? '-1' : '-2'),
  /**
   * `count` records of one partition from `offset`, one per line in CONSOLE_RECORD_FORMAT; exits 0 after `count` or an
   * idle timeout.
   */
  kafkaConsume: (topic: string, partition: number, offset: string, count: number) =>
    kafkaTool(
      false,
      'kafka-console-consumer.sh',
      '--topic',
      topic,
      '--partition',
      String(partition),
      '--offset',
      offset,
      '--max-messages',
      String(count),
      '--timeout-ms',
      String(CONSUME_IDLE_TIMEOUT_MS),
      ...CONSOLE_RECORD_FORMAT.flatMap((p) => ['--property', p]),
    ),
  /**
   * The orders migration job (apps/orders/src/online-migration/migrate.ts) inside an orders pod: same image, same
   * DATABASE_URL.
   */
  migrate: (...args: string[]) => [
    'exec',
    '--namespace',
    KIND_NAMESPACE,
    'deployment/orders',
    '--container',
    'orders',
    '--',
    'node',
    MIGRATION_JOB,
    ...args,
  ],
  /**
   * `tries` TCP connects from a pod of `from` to host:port, each cut at `timeoutMs`, timed: one JSON line
   * (CONNECT_PROBE), read by parseConnectProbe.
   */
  connectProbe: (p: { from: string; host: string; port: number }, tries = 3, timeoutMs = CONNECT_TIMEOUT_MS) => {
    if (typeof p !== 'object' || !p.from || !p.host || !Number.isInteger(p.port))
      throw new Error('connectProbe takes { from, host, port }');
    return [
      'exec',
      '--namespace',
      KIND_NAMESPACE,
      `deployment/${p.from}`,
      '--container',
      p.from,
      '--',
      'node',
      '-e',
      CONNECT_PROBE,
      p.host,
      String(p.port),
      String(tries),
      String(timeoutMs),
    ];
  },
  /** One annotation posted to Grafana's HTTP API from inside its own pod (its loopback; see grafanaAnnotations). */
  grafanaAnnotate: (port: number, body: GrafanaAnnotation) => {
    if (!Number.isInteger(port) || typeof body !== 'object' || !Array.isArray(body.tags))
      throw new Error('grafanaAnnotate takes a port and an annotation');
    return [
      'exec',
      '--namespace',
      KIND_NAMESPACE,
      'deployment/grafana',
      '--container',
      'grafana',
      '--',
      'wget',
      '-q',
      '-O',
      '-',
      '--header',
      'Content-Type: application/json',
      '--post-data',
      JSON.stringify(body),
      `http://${GRAFANA_API_USER}@127.0.0.1:${port}/api/annotations`,
    ];
  },
  /**
   * psql reading LOCK_WATCH_SCRIPT from stdin in the orders database, named as the local watch is (never a lock waiter
   * it counts).
   */
  lockWatch: () => [
    'exec',
    '--stdin',
    '--namespace',
    KIND_NAMESPACE,
    'statefulset/postgres',
    '--container',
    'postgres',
    '--',
    'psql',
    '--no-psqlrc',
    '--quiet',
    '--no-align',
    '--tuples-only',
    '--username',
    'postgres',
    '--dbname',
    LOCK_WATCH_DB,
  ],
  /** psql reading statements from stdin for as long as the session lasts (kind-sql.ts, PsqlSession). */
  psqlSession: (database: string) => [
    'exec',
    '--stdin',
    '--namespace',
    KIND_NAMESPACE,
    'statefulset/postgres',
    '--container',
    'postgres',
    '--',
    'psql',
    '--no-psqlrc',
    '--quiet',
    '--no-align',
    '--tuples-only',
    '--username',
    'postgres',
    '--dbname',
    database,
  ],
  /** The CPU time a container's cgroup has used (cgroup v2 `cpu.stat`, which kind's nodes mount for each container). */
  cgroupCpu: (pod: string, container: string) => {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(pod) || !/^[a-z0-9][a-z0-9-]*$/.test(container))
      throw new Error('cgroupCpu takes a pod and a container name');
    return [
      'exec',
      '--namespace',
      KIND_NAMESPACE,
      pod,
      '--container',
      container,
      '--',
      'cat',
      '/sys/fs/cgroup/cpu.stat',
    ];
  },
  /**
   * A token revoked until its expiry, as `lab revoke` does on the local target (REVOKED_TOKENS_KEY in the lab's Redis).
   */
  revokeToken: (jti: string, expiresAtS: number) => {
    if (!/^[0-9a-f-]{36}$/i.test(jti) || !Number.isInteger(expiresAtS))
      throw new Error('revokeToken takes a jti (a UUID) and an expiry in Unix seconds');
    return [
      'exec',
      '--namespace',
      KIND_NAMESPACE,
      'deployment/redis',
      '--container',
      'redis',
      '--',
      'redis-cli',
      'ZADD',
      REVOKED_TOKENS_KEY,
      String(expiresAtS),
      jti,
    ];
  },
  psql: (database: string, sql: string) => [
    'exec',
    '--namespace',
    KIND_NAMESPACE,
    'statefulset/postgres',
    '--container',
    'postgres',
    '--',
    'psql',
    '--no-psqlrc',
    '--quiet',
    '--no-align',
    '--tuples-only',
    '--set',
    'ON_ERROR_STOP=1',
    '--username',
    'postgres',
    '--dbname',
    database,
    '--command',
    sql,
  ],
};

/**
 * The lab's topics missing from `kafka-topics.sh --list` output. The topics themselves, not the Job that created
 * them: it is deleted a day after it finished (ttlSecondsAfterFinished), and the topics outlive it.
 */
export function missingTopics(listed: string): string[] {
  const topics = new Set(listed.split('\n').map((l) => l.trim()));
  return LAB_TOPICS.filter((t) => !topics.has(t));
}

/** One step of the fault's life, for the plan a test compares against what the fake kubectl recorded. */
export function faultPlan(
  objects: ChaosObject[],
): { phase: 'inject' | 'prove' | 'heal' | 'recover'; argv: string[] }[] {
  return [
    ...objects.map((o) => ({ phase: 'inject' as const, argv: kubectlPlan.apply(o) })),
    ...objects.map((o) => ({ phase: 'prove' as const, argv: kubectlPlan.get(o) })),
    ...objects.map((o) => ({ phase: 'heal' as const, argv: kubectlPlan.delete(o) })),
    ...objects.map((o) => ({ phase: 'recover' as const, argv: kubectlPlan.get(o) })),
  ];
}

/**
 * How long the fault is held. The experiment's hold (shared with the local driver), cut short by the manifest's own
 * `duration`: past it Chaos Mesh recovers by itself, and the fault window must not claim otherwise.
 */
export function holdSeconds(objects: ChaosObject[], experimentHoldS: number): number {
  const durations = objects.map((o) => o.durationS).filter((d): d is number => d !== undefined);
  return Math.min(experimentHoldS, ...durations);
}

/** What `lab up --target kind` installs, as one command line to run from the repository root. */
export const INSTALL_CHAOS_MESH = [
  'helm repo add chaos-mesh https://charts.chaos-mesh.org',
  chaosMeshInstallArgv(CHAOS_MESH_VALUES).join(' '),
].join(' && ');

/**
 * One message as the console producer reads it (parse.key, parse.headers, default separators): headers, key and
 * value separated by tabs, headers by `,`, each `name:value` split at its first `:`. Our values are JSON on one line;
 * a header or key that would break the line is refused rather than sent mangled.
 */
export function consoleLine(headers: Record<string, string>, key: string, value: string): string {
  const bad = (v: string) => /[\t\n,]/.test(v);
  const entries = Object.entries(headers);
  if (entries.some(([k, v]) => bad(k) || bad(v) || k.includes(':')) || /[\t\n]/.test(key) || /\n/.test(value)) {
    throw new Error(
      `a message the console producer cannot take on one line: ${JSON.stringify({ headers, key }).slice(0, 200)}`,
    );
  }
  return `${entries.map(([k, v]) => `${k}:${v}`).join(',')}\t${key}\t${value}\n`;
}

/**
 * `kafka-consumer-groups.sh --describe` output as the group's committed offset per partition of `topic` (`-`, never
 * committed, is left out). The columns are GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG …
 */
export function parseGroupOffsets(out: string, topic: string): Record<number, string> {
  const committed: Record<number, string> = {};
  for (const line of out.split('\n')) {
    const [, t, partition, current] = line.trim().split(/\s+/);
    if (t === topic && /^\d+$/.test(partition ?? '') && /^\d+$/.test(current ?? ''))
      committed[Number(partition)] = current;
  }
  return committed;
}

/**
 * The lock watch of a migration on kind: psql in the Postgres pod reads this session-local sampling function (the
 * local watch's queries, migration-watch.ts), then one LOCK_WATCH_SAMPLE per interval from the runner, and ends when
 * its stdin does. Every sample is its own transaction, so each reads pg_stat_activity afresh and the watch never
 * holds a snapshot a concurrent index build would wait for.
 */
export const LOCK_WATCH_SETUP = [
  // jsonb as text: one line per sample whatever it holds (json_agg's text puts a newline between two elements).
  'CREATE FUNCTION pg_temp.lab_lock_sample() RETURNS text LANGUAGE sql AS $lab$',
  `SELECT jsonb_build_object('t', (extract(epoch FROM clock_timestamp()) * 1000)::bigint,`,
  `  'waits', (SELECT coalesce(jsonb_agg(w), '[]'::jsonb) FROM (${LOCK_WAITS_SQL}) w),`,
  `  'lags', (SELECT coalesce(jsonb_agg(s.lag), '[]'::jsonb) FROM (${SLOT_LAG_SQL}) s))::text`,
  '$lab$;',
  '',
].join('\n');
export const LOCK_WATCH_SAMPLE = 'SELECT pg_temp.lab_lock_sample();\n';

/** The lock watch's stdin: LOCK_WATCH_SETUP, then one LOCK_WATCH_SAMPLE every interval until `signal` aborts. */
export function lockWatchInput(signal: AbortSignal, intervalMs = KIND_LOCK_WATCH_INTERVAL_MS): Readable {
  return Readable.from(
    (async function* () {
      yield LOCK_WATCH_SETUP;
      while (!signal.aborted) {
        yield LOCK_WATCH_SAMPLE;
        await sleep(intervalMs);
      }
    })(),
  );
}
/** The kind watch's interval: one kubectl stream, so coarser than the local 25 ms; the report says which. */
export const KIND_LOCK_WATCH_INTERVAL_MS = 100;

export interface TimedLockSample {
  /** Epoch ms, by the database's clock (the kind node's, which is the host's). */
  t: number;
  waits: LockSample[];
  lags: (number | null)[];
}

/** The watch's output: one JSON object per sample; blank lines and anything else are skipped. */
export function parseLockSamples(out: string): TimedLockSample[] {
  const samples: TimedLockSample[] = [];
  let pending = '';
  for (const line of out.split('\n')) {
    // A sample may span lines (a json value psql printed with newlines inside): gather them until it parses.
    if (line.startsWith('{')) pending = line;
    else if (pending) pending += `\n${line}`;
    else continue;
    try {
      samples.push(JSON.parse(pending) as TimedLockSample);
      pending = '';
    } catch {
      /* not whole yet */
    }
  }
  return samples;
}

/** The samples as the local watch's summary, each wait attributed to the migration step running at its time. */
export function lockWatchSummary(
  samples: TimedLockSample[],
  steps: { step: string; startedAt: number }[],
  intervalMs: number,
  budgetMs: number,
): WatchSummary {
  const episodes = new LockEpisodes();
  for (const s of samples)
    episodes.add(s.waits, s.lags, [...steps].reverse().find((x) => x.startedAt <= s.t)?.step ?? 'start');
  return episodes.summary(intervalMs, budgetMs);
}

/**
 * The connect probe, run by node in an app pod (every app image has it): `tries` TCP connects one after another, each
 * cut at `timeoutMs`, printing `{"ms":[…],"failed":n}`. A SYN-ACK that netem holds shows as the delay; a partition as
 * failures.
 */
export const CONNECT_PROBE = [
  "const net = require('net');",
  'const [host, port, tries, timeoutMs] = process.argv.slice(1);',
  'const ms = []; let failed = 0;',
  '(async () => {',
  '  for (let i = 0; i < Number(tries); i++) {',
  '    const t0 = process.hrtime.bigint();',
  '    const ok = await new Promise((resolve) => { const s = net.connect(Number(port), host); s.setTimeout(Number(timeoutMs));',
  "      s.once('connect', () => { s.destroy(); resolve(true); }); s.once('timeout', () => { s.destroy(); resolve(false); }); s.once('error', () => resolve(false)); });",
  '    if (ok) ms.push(Number(process.hrtime.bigint() - t0) / 1e6); else failed++;',
  '  }',
  '  console.log(JSON.stringify({ ms, failed }));',
  '})();',
].join('\n');

/** A connect that has not completed in 3 s is not coming: far above any delay the catalog injects (2 s). */
export const CONNECT_TIMEOUT_MS = 3000;

/**
 * The probe while the fault holds: each try must end inside the fault's window, or a short partition (3 s) is over
 * before a second 3 s try starts and the path looks whole. A partition is judged on one try, a delay on three.
 * Undefined when less than 300 ms of the window is left: too short to judge.
 */
export function duringProbe(
  o: Pick<ChaosObject, 'networkAction'>,
  remainingMs: number,
): { tries: number; timeoutMs: number } | undefined {
  const tries = o.networkAction === 'partition' ? 1 : 3;
  const timeoutMs = Math.min(CONNECT_TIMEOUT_MS, Math.floor(remainingMs / (tries + 1)));
  return timeoutMs >= 300 ? { tries, timeoutMs } : undefined;
}

export interface ConnectProbeResult {
  ms: number[];
  failed: number;
}

export function parseConnectProbe(out: string): ConnectProbeResult {
  const line = out.trim().split('\n').pop() ?? '';
  const parsed = JSON.parse(line) as ConnectProbeResult;
  if (!Array.isArray(parsed.ms) || typeof parsed.failed !== 'number')
    throw new Error(`not a connect probe's answer: ${line.slice(0, 120)}`);
  return parsed;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Whether the services' own path shows the fault: a delay adds at least half its latency to the median connect, a
 * partition makes every connect fail that succeeded before. What the evidence says either way.
 */
export function judgeConnectProbe(
  o: Pick<ChaosObject, 'networkAction' | 'latencyMs'>,
  edge: string,
  before: ConnectProbeResult,
  during: ConnectProbeResult,
): { onPath: boolean; detail: string } {
  const fmt = (r: ConnectProbeResult) =>
    (r.ms.length ? `${median(r.ms).toFixed(1)} ms median of ${r.ms.length}` : 'none connected') +
    (r.failed ? `, ${r.failed} failed` : '');
  const seen = `connects ${edge}: ${fmt(before)} before, ${fmt(during)} during`;
  if (before.ms.length === 0)
    return { onPath: false, detail: `${seen}: the edge was already unreachable before the fault` };
  if (o.networkAction === 'delay' && o.latencyMs) {
    const added = (during.ms.length ? median(during.ms) : Number.POSITIVE_INFINITY) - median(before.ms);
    const onPath = during.ms.length > 0 && added >= o.latencyMs / 2;
    return {
      onPath,
      detail: `${seen} (the delay is ${o.latencyMs} ms): ${onPath ? 'the services’ path is delayed' : 'NOT delayed on the services’ path'}`,
    };
  }
  if (o.networkAction === 'partition') {
    const onPath = during.ms.length === 0 && during.failed > 0;
    return { onPath, detail: `${seen}: ${onPath ? 'the services’ path is cut' : 'NOT cut on the services’ path'}` };
  }
  return { onPath: true, detail: `${seen} (${o.networkAction ?? 'this action'} is not judged by connect times)` };
}

/** `cpu.stat` of cgroup v2: the cgroup's CPU time so far, in microseconds (its `usage_usec` line). */
export function parseCpuStat(out: string): number {
  const match = /^usage_usec (\d+)$/m.exec(out);
  if (!match) throw new Error(`not a cgroup v2 cpu.stat (no usage_usec line): ${out.trim().slice(0, 120)}`);
  return Number(match[1]);
}

/** A container's CPU use over a short window, in cores (1 = one core busy the whole time). */
export interface CpuRate {
  cores: number;
  overMs: number;
}

/**
 * Whether a StressChaos's CPU stressors really ran in the target container: Chaos Mesh puts them in the container's
 * own cgroup, so its CPU use must grow by at least half of what they ask for, capped by the container's CPU limit
 * (the cgroup throttles the stressors to it). A StressChaos without a cpu stressor is not judged by CPU.
 */
export function judgeStressCpu(
  o: Pick<ChaosObject, 'stressCpuCores'>,
  target: string,
  limitCores: number | undefined,
  before: CpuRate,
  during: CpuRate,
): { proven: boolean; detail: string } {
  const seen = `${target} used ${before.cores.toFixed(2)} cores before, ${during.cores.toFixed(2)} during (cgroup cpu.stat over ${before.overMs} and ${during.overMs} ms)`;
  if (!o.stressCpuCores) return { proven: true, detail: `${seen}; no cpu stressor, not judged by CPU` };
  const expected = Math.min(o.stressCpuCores, limitCores ?? Number.POSITIVE_INFINITY);
  const added = during.cores - before.cores;
  const proven = added >= expected / 2;
  return {
    proven,
    detail: `${seen}: +${added.toFixed(2)} cores, the stressors ask ${o.stressCpuCores} cores${limitCores !== undefined ? ` within a ${limitCores}-core limit` : ''}; ${proven ? 'the stress runs in the container' : `NOT the stress (at least +${(expected / 2).toFixed(2)} expected)`}`,
  };
}

/**
 * Grafana's built-in admin (k8s/base/grafana sets no other password): the annotations API needs an editor, and the
 * anonymous visitors the lab lets in are viewers. Only reachable from inside the Grafana pod, where this runs.
 */
const GRAFANA_API_USER = 'admin:admin';

/** An annotation as Grafana's POST /api/annotations takes it (epoch ms; a region when timeEnd is set). */
export interface GrafanaAnnotation {
  time: number;
  timeEnd?: number;
  tags: string[];
  text: string;
}

/** The tag every dashboard's "chaos runs" annotation query shows (k8s/base/grafana/dashboards). */
export const CHAOS_ANNOTATION_TAG = 'faultline-chaos';

/** A run on the dashboards: its start, the fault as a region from injection to heal, and its verdict at the end. */
export function grafanaAnnotations(run: {
  id: string;
  runId: string;
  startedAt: number;
  loadStartedAt: number;
  window: { injectedAt?: number; healedAt?: number };
  finishedAt: number;
  verdict: string;
  reason: string;
}): GrafanaAnnotation[] {
  const tags = [CHAOS_ANNOTATION_TAG, run.id, `run-${run.runId}`];
  const out: GrafanaAnnotation[] = [
    { time: run.startedAt, tags: [...tags, 'start'], text: `${run.id} (run ${run.runId}) started` },
  ];
  const { injectedAt, healedAt } = run.window;
  if (injectedAt !== undefined && Number.isFinite(run.loadStartedAt)) {
    out.push({
      time: run.loadStartedAt + injectedAt,
      ...(healedAt !== undefined ? { timeEnd: run.loadStartedAt + healedAt } : {}),
      tags: [...tags, 'fault'],
      text: `${run.id}: fault injected${healedAt !== undefined ? ' → healed' : ''}`,
    });
  }
  out.push({
    time: run.finishedAt,
    tags: [...tags, 'verdict'],
    text: `${run.id}: ${run.verdict}${run.reason ? ` (${run.reason.slice(0, 200)})` : ''}`,
  });
  return out;
}
