// The kind driver of `lab chaos run` as data: which Chaos Mesh objects an experiment creates, and every kubectl
// invocation that applies, reads and deletes them, computed by pure functions so the sequence is unit-tested on
// machines without a cluster. kind-runner.ts only executes these argv lists through the Kubectl wrapper.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { EVENT_HEADERS } from '@faultline/contracts';
import { LAB_TOPICS } from '../../infra/kafka';
import { CHAOS_MESH_VALUES, chaosMeshInstallArgv, KIND_NAMESPACE } from '../../kind/kind-plan';
import { LabError } from '../../process/lab-error';
import type { Experiment } from '../experiment-schema';

export const CHAOS_MESH_GROUP = 'chaos-mesh.org';

/** The Chaos Mesh kinds the catalog uses, with the CRD's plural (its resource name). */
export const CHAOS_KINDS: Record<string, string> = { PodChaos: 'podchaos', NetworkChaos: 'networkchaos', StressChaos: 'stresschaos' };

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
}

/** Go durations as Chaos Mesh writes them (`30s`, `1m30s`, `1500ms`) in seconds. */
export function durationSeconds(text: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 1e-6, µs: 1e-6, ns: 1e-9 };
  const parts = [...text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|us|µs|ns|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new LabError('chaos', `"${text}" is not a duration`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]], 0);
}

export function chaosObjectFrom(file: string, text: string): ChaosObject {
  const doc = parse(text) as {
    apiVersion?: string;
    kind?: string;
    metadata?: { name?: string; namespace?: string };
    spec?: { action?: string; duration?: string; containerNames?: string[]; selector?: { labelSelectors?: Record<string, string> } };
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
  'exec', ...(stdin ? ['--stdin'] : []), '--namespace', KIND_NAMESPACE, 'statefulset/kafka', '--container', 'kafka', '--',
  'env', 'KAFKA_HEAP_OPTS=-Xmx128m', `/opt/kafka/bin/${tool}`, '--bootstrap-server', KAFKA_IN_POD_BOOTSTRAP, ...args,
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

/** How long the Kubectl wrapper lets one call run. */
export function kubectlTimeoutMs(args: readonly string[]): number {
  return args.includes(MIGRATION_JOB) ? MIGRATION_STEP_TIMEOUT_MS : KUBECTL_TIMEOUT_MS;
}

/** Every argv below goes to the Kubectl wrapper, which puts the binary and `--context kind-faultline` first. */
export const kubectlPlan = {
  contexts: () => ['config', 'get-contexts', '--output', 'name'],
  crds: (objects: ChaosObject[]) => ['get', 'customresourcedefinitions', ...[...new Set(objects.map((o) => o.resource))], '--output', 'name'],
  apply: (o: ChaosObject) => ['apply', '--filename', o.file],
  get: (o: ChaosObject) => ['get', o.resource, o.name, '--namespace', o.namespace, '--output', 'json'],
  // --wait=false: kubectl would block on Chaos Mesh's finalizer; the runner polls for AllRecovered itself, with a
  // deadline, so a recovery that never comes is reported instead of hanging the run.
  delete: (o: ChaosObject) => ['delete', '--filename', o.file, '--ignore-not-found', '--wait=false'],
  pods: (o: ChaosObject) => ['get', 'pods', '--namespace', o.namespace, '--selector', Object.entries(o.labels).map(([k, v]) => `${k}=${v}`).join(','), '--output', 'json'],
  workloads: () => ['get', 'deployments,statefulsets,jobs,pods', '--namespace', KIND_NAMESPACE, '--output', 'json'],
  prometheus: (path: string) => ['get', '--raw', path],
  /** One message from stdin (`<headers>\t<key>\t<value>`), acknowledged by every in-sync replica before exit 0. */
  /** The broker's own list of topics, one per line. */
  kafkaTopics: () => kafkaTool(false, 'kafka-topics.sh', '--list'),
  produce: (topic: string) =>
    kafkaTool(true, 'kafka-console-producer.sh', '--topic', topic, '--request-required-acks', '-1', '--property', 'parse.key=true', '--property', 'parse.headers=true'),
  /** The orders migration job (apps/orders/src/online-migration/migrate.ts) inside an orders pod: same image, same DATABASE_URL. */
  migrate: (...args: string[]) => ['exec', '--namespace', KIND_NAMESPACE, 'deployment/orders', '--container', 'orders', '--', 'node', MIGRATION_JOB, ...args],
  psql: (database: string, sql: string) => ['exec', '--namespace', KIND_NAMESPACE, 'statefulset/postgres', '--container', 'postgres', '--', 'psql', '--no-psqlrc', '--quiet', '--no-align', '--tuples-only', '--set', 'ON_ERROR_STOP=1', '--username', 'postgres', '--dbname', database, '--command', sql],
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
export function faultPlan(objects: ChaosObject[]): { phase: 'inject' | 'prove' | 'heal' | 'recover'; argv: string[] }[] {
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
export const INSTALL_CHAOS_MESH = ['helm repo add chaos-mesh https://charts.chaos-mesh.org', chaosMeshInstallArgv(CHAOS_MESH_VALUES).join(' ')].join(' && ');

/**
 * The poison message of poison-message, as the console producer reads it (parse.headers, default separators: tab
 * between headers, key and value; `,` between headers; `:` inside one): the local driver's malformed OrderPlaced
 * (quantity 0 breaks the v1 schema, so no retry can fix it), with the event headers every consumer reads.
 */
export function poisonLine(orderId: string, eventId: string, placedAt: string): string {
  const headers = [`${EVENT_HEADERS.eventId}:${eventId}`, `${EVENT_HEADERS.eventType}:OrderPlaced`, `${EVENT_HEADERS.eventVersion}:1`].join(',');
  const value = JSON.stringify({ orderId, customerId: 'chaos-poison', items: [{ sku: 'SKU-0042', quantity: 0 }], placedAt });
  return `${headers}\t${orderId}\t${value}\n`;
}
