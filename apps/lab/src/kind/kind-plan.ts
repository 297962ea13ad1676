import { join, relative } from 'node:path';
import type { ComponentStatus } from '../infra/infra';
import { findOnPath } from '../infra/find-binary';
import { LabError } from '../process/lab-error';

/**
 * The kind target as data: what `lab up --target kind` runs, in order, computed by pure functions so the sequence
 * is unit-tested on machines without Docker or a cluster. kind-target.ts only executes these steps.
 */
export const KIND_CLUSTER = 'faultline';
export const KIND_CONTEXT = `kind-${KIND_CLUSTER}`;
export const KIND_NAMESPACE = 'faultline';
/** Matches the CRDs the chaos manifests are validated against (../shared/schemas/chaos-mesh-v2.8.3). */
export const CHAOS_MESH_CHART_VERSION = '2.8.3';
export const CHAOS_MESH_NAMESPACE = 'chaos-mesh';
/**
 * Chaos Mesh's Helm values, relative to the repository root: the install's only settings (a budget test reads them).
 */
export const CHAOS_MESH_VALUES = join('k8s', 'kind', 'chaos-mesh-values.yaml');
/** Every app image the Dockerfile builds (apps/<app>, ARG APP); the relay image runs twice, once per source. */
export const KIND_APP_IMAGES = [
  'gateway',
  'orders',
  'inventory',
  'recommendations',
  'notifications',
  'outbox-relay',
] as const;
/** Secrets created at deploy time from keys that are never committed; the manifests reference exactly these. */
export const DEPLOY_TIME_SECRETS = { jwt: 'jwt-keys', postgres: 'postgres-credentials' } as const;
export const POSTGRES_DATABASES = ['orders', 'inventory', 'notifications'] as const;
/** The relays' Postgres login (k8s/base/postgres/02-outbox-relay-role.sh): REPLICATION, not the superuser. */
export const OUTBOX_RELAY_ROLE = 'outbox_relay';
export const OUTBOX_RELAY_SOURCES = ['orders', 'inventory'] as const;
/** The workloads `up` waits for, in dependency order (infrastructure first). */
export const KIND_WORKLOADS: { kind: 'statefulset' | 'deployment' | 'job'; name: string }[] = [
  { kind: 'statefulset', name: 'postgres' },
  { kind: 'statefulset', name: 'kafka' },
  { kind: 'job', name: 'kafka-topics' },
  { kind: 'deployment', name: 'redis' },
  { kind: 'deployment', name: 'otel-collector' },
  { kind: 'deployment', name: 'jaeger' },
  { kind: 'deployment', name: 'prometheus' },
  { kind: 'deployment', name: 'grafana' },
  { kind: 'deployment', name: 'orders' },
  { kind: 'deployment', name: 'inventory' },
  { kind: 'deployment', name: 'recommendations' },
  { kind: 'deployment', name: 'notifications' },
  { kind: 'deployment', name: 'outbox-relay-orders' },
  { kind: 'deployment', name: 'outbox-relay-inventory' },
  { kind: 'deployment', name: 'gateway' },
];
/** What the user opens, on the host ports k8s/kind/cluster.yaml maps. */
export const KIND_URLS = {
  gateway: 'http://localhost:8080',
  grafana: 'http://localhost:3000',
  jaeger: 'http://localhost:16686',
  prometheus: 'http://localhost:9090',
} as const;
/** A cold cluster pulls Kafka, Postgres, Grafana… images first; 5 minutes per workload covers a slow link. */
export const WORKLOAD_READY_TIMEOUT = '300s';

export interface KindTool {
  name: 'docker' | 'kind' | 'kubectl' | 'helm' | 'git';
  install: string;
}

export const KIND_TOOLS: KindTool[] = [
  {
    name: 'docker',
    install:
      'install Docker Engine 28 or newer (https://docs.docker.com/engine/install/) or Docker Desktop, and start the daemon',
  },
  {
    name: 'kind',
    install:
      'install kind v0.27 or newer (https://kind.sigs.k8s.io/docs/user/quick-start/#installation, e.g. `go install sigs.k8s.io/kind@v0.27.0`)',
  },
  {
    name: 'kubectl',
    install:
      'install kubectl v1.32 or newer, which bundles kustomize with components (https://kubernetes.io/docs/tasks/tools/)',
  },
  { name: 'helm', install: 'install Helm 3 (https://helm.sh/docs/intro/install/); it installs Chaos Mesh' },
  {
    name: 'git',
    install: "install git (Debian: `apt-get install git`); images are tagged with the checkout's short commit sha",
  },
];

/** The tools missing from `env`'s PATH, each with how to install it. */
export function missingTools(
  env: NodeJS.ProcessEnv = process.env,
  needed: KindTool['name'][] = KIND_TOOLS.map((t) => t.name),
): KindTool[] {
  return KIND_TOOLS.filter((tool) => needed.includes(tool.name) && !findOnPath(tool.name, env));
}

/** Throws one LabError naming every missing tool and how to install each; returns quietly when all are there. */
export function checkPrerequisites(env: NodeJS.ProcessEnv = process.env, needed?: KindTool['name'][]): void {
  const missing = missingTools(env, needed);
  if (missing.length === 0) return;
  const lines = missing.map((tool) => `  - ${tool.name} not found on PATH: ${tool.install}`);
  throw new LabError('kind', `the kind target needs ${missing.map((t) => t.name).join(', ')}:\n${lines.join('\n')}`);
}

/** The git short sha images are tagged with; a dirty tree gets a suffix so `kind load` + rollout pick the change up. */
export function imageTag(shortSha: string, dirty: boolean, nowSeconds: number): string {
  if (!/^[0-9a-f]{7,40}$/.test(shortSha))
    throw new LabError('kind', `cannot tag images: "${shortSha}" is not a git short sha`);
  return dirty ? `${shortSha}-dirty-${nowSeconds}` : shortSha;
}

export function appImage(app: string, tag: string): string {
  return `faultline/${app}:${tag}`;
}

export interface KindPaths {
  root: string;
  /** .lab/kind: generated overlay, secrets, logs. Git-ignored with the rest of .lab. */
  stateDir: string;
}

export function kindSecretsDir(paths: KindPaths): string {
  return join(paths.stateDir, 'secrets');
}

export function kindOverlayDir(paths: KindPaths): string {
  return join(paths.stateDir, 'overlay');
}

/** Where the built images are saved as one archive for `kind load image-archive` (overwritten by every `up`). */
export function kindImageArchive(paths: KindPaths): string {
  return join(paths.stateDir, 'images', 'faultline-images.tar');
}

export interface KindSecrets {
  jwtPublicKeyPem: string;
  postgresPassword: string;
  /** The password of the relays' role, OUTBOX_RELAY_ROLE. */
  relayPassword: string;
  postgresPort: number;
}

/**
 * The Secrets the manifests reference but the repo never holds. The private JWT key stays on the host
 * (.lab/kind/secrets/jwt-private.pem, for `lab token`): nothing in the cluster signs tokens.
 */
export function renderSecretsManifest(secrets: KindSecrets): string {
  const url = (db: string, user = 'postgres', password = secrets.postgresPassword) =>
    `postgres://${user}:${encodeURIComponent(password)}@postgres:${secrets.postgresPort}/${db}`;
  const docs = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: KIND_NAMESPACE } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: DEPLOY_TIME_SECRETS.jwt, namespace: KIND_NAMESPACE },
      type: 'Opaque',
      stringData: { 'jwt-public.pem': secrets.jwtPublicKeyPem },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: DEPLOY_TIME_SECRETS.postgres, namespace: KIND_NAMESPACE },
      type: 'Opaque',
      stringData: {
        password: secrets.postgresPassword,
        ...Object.fromEntries(POSTGRES_DATABASES.map((db) => [`${db}-url`, url(db)])),
        'outbox-relay-password': secrets.relayPassword,
        ...Object.fromEntries(
          OUTBOX_RELAY_SOURCES.map((db) => [
            `outbox-relay-${db}-url`,
            url(db, OUTBOX_RELAY_ROLE, secrets.relayPassword),
          ]),
        ),
      },
    },
  ];
  // JSON is valid YAML, and kubectl reads a JSON List as several objects.
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }, null, 2) + '\n';
}

/** A kustomization that builds on the committed kind overlay and pins every app image to the tag just loaded. */
export function renderImageOverlay(paths: KindPaths, tag: string): string {
  const lines = [
    '# Generated by `lab up --target kind`: the committed overlay with images pinned to the build just loaded.',
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'resources:',
    // Relative: kustomize refuses absolute resource paths.
    `  - ${JSON.stringify(relative(kindOverlayDir(paths), join(paths.root, 'k8s', 'overlays', 'kind')))}`,
    'images:',
    ...KIND_APP_IMAGES.map((app) => `  - { name: faultline/${app}, newTag: ${JSON.stringify(tag)} }`),
  ];
  return lines.join('\n') + '\n';
}

export type KindStep =
  | { type: 'run'; component: string; description: string; argv: string[] }
  | { type: 'write'; component: string; description: string; file: string; content: string; mode: number };

export interface KindUpInput extends KindPaths {
  clusterExists: boolean;
  tag: string;
  secrets: KindSecrets;
  /** The Docker daemon's platform (`linux/amd64`): images are built and saved for it, the kind node's own. */
  platform: string;
}

const kubectl = (...args: string[]) => ['kubectl', '--context', KIND_CONTEXT, ...args];

/** `helm upgrade --install` of the pinned Chaos Mesh chart with the values file and nothing else. */
export function chaosMeshInstallArgv(valuesFile: string): string[] {
  return [
    'helm',
    'upgrade',
    '--install',
    'chaos-mesh',
    'chaos-mesh/chaos-mesh',
    '--kube-context',
    KIND_CONTEXT,
    '--namespace',
    CHAOS_MESH_NAMESPACE,
    '--create-namespace',
    '--version',
    CHAOS_MESH_CHART_VERSION,
    '--values',
    valuesFile,
  ];
}

/** Everything `lab up --target kind` does, in order. Idempotent on a running cluster: every step converges. */
export function planKindUp(input: KindUpInput): KindStep[] {
  if (!/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/.test(input.platform))
    throw new LabError('kind', `cannot build images: "${input.platform}" is not a Docker platform (os/arch)`);
  const steps: KindStep[] = [];
  if (!input.clusterExists) {
    steps.push({
      type: 'run',
      component: 'cluster',
      description: `creating kind cluster "${KIND_CLUSTER}"`,
      argv: [
        'kind',
        'create',
        'cluster',
        '--name',
        KIND_CLUSTER,
        '--config',
        join(input.root, 'k8s', 'kind', 'cluster.yaml'),
        '--wait',
        '180s',
      ],
    });
  }
  for (const app of KIND_APP_IMAGES) {
    steps.push({
      type: 'run',
      component: `image ${app}`,
      description: `building ${appImage(app, input.tag)}`,
      argv: [
        'docker',
        'build',
        '--platform',
        input.platform,
        '--file',
        join(input.root, 'docker', 'Dockerfile'),
        '--build-arg',
        `APP=${app}`,
        '--tag',
        appImage(app, input.tag),
        input.root,
      ],
    });
  }
  // Not `kind load docker-image`: with Docker's containerd image store it saves an index naming manifests that are
  // not in the archive and the node's import fails (kind#3795). One platform saved, then loaded as an archive.
  const archive = kindImageArchive(input);
  steps.push(
    {
      type: 'run',
      component: 'images',
      description: `saving ${KIND_APP_IMAGES.length} images (${input.platform}) to ${archive}`,
      argv: [
        'docker',
        'image',
        'save',
        '--platform',
        input.platform,
        '--output',
        archive,
        ...KIND_APP_IMAGES.map((app) => appImage(app, input.tag)),
      ],
    },
    {
      type: 'run',
      component: 'images',
      description: `loading ${KIND_APP_IMAGES.length} images into the cluster`,
      argv: ['kind', 'load', 'image-archive', '--name', KIND_CLUSTER, archive],
    },
  );
  steps.push(
    {
      type: 'run',
      component: 'chaos-mesh',
      description: 'adding the Chaos Mesh chart repository',
      argv: ['helm', 'repo', 'add', 'chaos-mesh', 'https://charts.chaos-mesh.org', '--force-update'],
    },
    {
      type: 'run',
      component: 'chaos-mesh',
      description: `installing Chaos Mesh ${CHAOS_MESH_CHART_VERSION} (${CHAOS_MESH_VALUES})`,
      argv: [...chaosMeshInstallArgv(join(input.root, CHAOS_MESH_VALUES)), '--wait', '--timeout', '10m'],
    },
  );
  const secretsFile = join(kindSecretsDir(input), 'secrets.json');
  steps.push(
    {
      type: 'write',
      component: 'secrets',
      description: 'writing the deploy-time Secrets',
      file: secretsFile,
      content: renderSecretsManifest(input.secrets),
      mode: 0o600,
    },
    // Server-side apply everywhere: Chaos Mesh's Schedule/Workflow CRDs exceed the client-side annotation limit, and
    // one field manager keeps re-applies conflict-free.
    {
      type: 'run',
      component: 'secrets',
      description: 'applying the JWT and Postgres Secrets',
      argv: kubectl('apply', '--server-side', '--field-manager=faultline-lab', '-f', secretsFile),
    },
  );
  const overlay = kindOverlayDir(input);
  steps.push(
    {
      type: 'write',
      component: 'manifests',
      description: `pinning images to ${input.tag}`,
      file: join(overlay, 'kustomization.yaml'),
      content: renderImageOverlay(input, input.tag),
      mode: 0o644,
    },
    {
      type: 'run',
      component: 'manifests',
      description: 'applying k8s/overlays/kind',
      argv: kubectl('apply', '--server-side', '--field-manager=faultline-lab', '--force-conflicts', '-k', overlay),
    },
  );
  for (const workload of KIND_WORKLOADS) {
    steps.push({
      type: 'run',
      component: workload.name,
      description: `waiting for ${workload.kind}/${workload.name}`,
      argv:
        workload.kind === 'job'
          ? kubectl(
              '--namespace',
              KIND_NAMESPACE,
              'wait',
              '--for=condition=complete',
              `job/${workload.name}`,
              `--timeout=${WORKLOAD_READY_TIMEOUT}`,
            )
          : kubectl(
              '--namespace',
              KIND_NAMESPACE,
              'rollout',
              'status',
              `${workload.kind}/${workload.name}`,
              `--timeout=${WORKLOAD_READY_TIMEOUT}`,
            ),
    });
  }
  return steps;
}

export function planKindDown(): KindStep[] {
  return [
    {
      type: 'run',
      component: 'cluster',
      description: `deleting kind cluster "${KIND_CLUSTER}"`,
      argv: ['kind', 'delete', 'cluster', '--name', KIND_CLUSTER],
    },
  ];
}

/** The command whose JSON `statusFromKubectl` reads. */
export function statusCommand(): string[] {
  return kubectl('--namespace', KIND_NAMESPACE, 'get', 'deployments,statefulsets,jobs,pods', '--output', 'json');
}

interface KubeObject {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { replicas?: number; template?: { spec?: { containers?: { image?: string }[] } } };
  status?: {
    readyReplicas?: number;
    replicas?: number;
    succeeded?: number;
    failed?: number;
    containerStatuses?: { restartCount?: number }[];
  };
}

const HOST_PORTS: Record<string, number> = { gateway: 8080, grafana: 3000, jaeger: 16686, prometheus: 9090 };

/**
 * `lab status` rows from `kubectl get deployments,statefulsets,jobs,pods -o json`: one per workload, restarts summed
 * over its pods.
 */
export function statusFromKubectl(json: string): ComponentStatus[] {
  const items = (JSON.parse(json) as { items: KubeObject[] }).items;
  const pods = items.filter((o) => o.kind === 'Pod');
  const restartsOf = (name: string) =>
    pods
      .filter((p) => p.metadata.labels?.['app.kubernetes.io/name'] === name)
      .reduce((sum, p) => sum + (p.status?.containerStatuses ?? []).reduce((s, c) => s + (c.restartCount ?? 0), 0), 0);
  return items
    .filter((o) => o.kind !== 'Pod')
    .map((o): ComponentStatus => {
      const name = o.metadata.name;
      const isApp = (o.spec?.template?.spec?.containers ?? []).some((c) => c.image?.startsWith('faultline/'));
      const base = {
        name,
        kind: isApp ? ('service' as const) : ('infra' as const),
        pid: null,
        port: HOST_PORTS[name] ?? null,
        log: `kubectl --context ${KIND_CONTEXT} -n ${KIND_NAMESPACE} logs ${o.kind.toLowerCase()}/${name}`,
        restarts: restartsOf(name),
        ...(name in KIND_URLS ? { url: KIND_URLS[name as keyof typeof KIND_URLS] } : {}),
      };
      if (o.kind === 'Job') {
        if ((o.status?.succeeded ?? 0) > 0) return { ...base, state: 'running', healthy: true, detail: 'completed' };
        return (o.status?.failed ?? 0) > 0
          ? { ...base, state: 'unhealthy', healthy: false, detail: `${o.status?.failed} failed attempts` }
          : { ...base, state: 'starting', healthy: false };
      }
      const want = o.spec?.replicas ?? 1;
      const ready = o.status?.readyReplicas ?? 0;
      if (want === 0) return { ...base, state: 'stopped', healthy: false, detail: 'scaled to 0' };
      if (ready >= want) return { ...base, state: 'running', healthy: true };
      return {
        ...base,
        state: (o.status?.replicas ?? 0) > 0 ? 'unhealthy' : 'starting',
        healthy: false,
        detail: `${ready}/${want} ready`,
      };
    });
}
