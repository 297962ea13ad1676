/* eslint-disable @typescript-eslint/no-non-null-assertion -- in these checks a missing object (no prometheus-config,
   no grafana volume) fails the test at once with a TypeError at the line that expected it, which is the assertion we
   want. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ARCHITECTURE_EDGES } from './support/architecture-edges';
import { validateObject } from './support/k8s-schema';
import { allows, connectionAllowed, podsOf, policiesOf } from '@faultline/testing';
import { k8s, K8sObject, kustomize, kustomizeWithComponents, root } from './support/repo';

// Plain shapes of what the checks read from rendered objects.
type Port = {
  name?: string;
  containerPort?: number;
  port?: number | string;
  targetPort?: number | string;
  nodePort?: number;
  protocol?: string;
};
type Probe = {
  httpGet?: { port: number | string; path?: string };
  tcpSocket?: { port: number | string };
  grpc?: { port: number; service?: string };
  exec?: unknown;
};
type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: { name: string; key: string };
    secretKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
};
type Container = {
  name: string;
  image: string;
  args?: string[];
  ports?: Port[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
};
type PodSpec = {
  containers: Container[];
  initContainers?: (Container & { command?: string[] })[];
  volumes?: {
    name: string;
    secret?: { secretName: string; items?: { key: string; path: string }[] };
    configMap?: { name: string };
  }[];
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
  terminationGracePeriodSeconds?: number;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
};
type Workload = K8sObject & {
  spec: {
    serviceName?: string;
    strategy?: { type?: string };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
};
type Service = K8sObject & {
  spec: { selector: Record<string, string>; ports: Port[]; type?: string; clusterIP?: string };
};
type ConfigMap = K8sObject & { data: Record<string, string> };

/**
 * Secrets `lab up --target kind` creates at deploy time, never in the repo: rendered by the lab's own
 * renderSecretsManifest (apps/lab/src/kind/kind-plan.ts, from the build: tests must not import apps).
 */
const DEPLOY_TIME_SECRETS: Record<string, Record<string, string>> = (() => {
  const file = join(root, 'dist', 'apps', 'lab', 'src', 'kind', 'kind-plan.js');
  if (!existsSync(file)) throw new Error(`${file} not found: run \`npm run build\` before the tests`);
  const { renderSecretsManifest } = require(file) as {
    renderSecretsManifest: (s: {
      jwtPublicKeyPem: string;
      postgresPassword: string;
      relayPassword: string;
      postgresPort: number;
    }) => string;
  };
  const list = JSON.parse(
    renderSecretsManifest({
      jwtPublicKeyPem: '',
      postgresPassword: 'placeholder',
      relayPassword: 'relay-placeholder',
      postgresPort: 5432,
    }),
  ) as { items: { kind: string; metadata: { name: string }; stringData: Record<string, string> }[] };
  return Object.fromEntries(list.items.filter((i) => i.kind === 'Secret').map((i) => [i.metadata.name, i.stringData]));
})();
/**
 * Variables a component sets that the app's schema does not know yet, each waiting for the issue that adds it. The
 * env check fails once the schema knows the variable (remove it here then) and for any variable not listed.
 */
/** Variables a manifest may set before the app's schema knows them (none today; the check below keeps this honest). */
const PENDING_VARIABLES: Record<string, string> = {};
/**
 * What dashboards may query: the metrics documented in docs/metrics.md (which a live test checks against every
 * service's /metrics), with a histogram's series, the prom-client defaults used, and the repo's recorded series.
 */
const KNOWN_METRICS = (() => {
  const documented = [
    ...readFileSync(join(root, 'docs', 'metrics.md'), 'utf8').matchAll(/^\| `([a-z_]+)` \| (\w+) \|/gm),
  ];
  const names = documented.flatMap(([, name, type]) =>
    type === 'histogram' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
  );
  const recorded = [
    ...readFileSync(join(k8s, 'base', 'prometheus', 'rules', 'faultline.rules.yml'), 'utf8').matchAll(
      /- record: (\S+)/g,
    ),
  ].map(([, r]) => r);
  return [
    ...names,
    ...recorded,
    'nodejs_eventloop_lag_seconds',
    'nodejs_eventloop_lag_p99_seconds',
    'process_resident_memory_bytes',
    'up',
  ];
})();
const GRACEFUL_EXIT_SECONDS = 20; // libs/bootstrap SHUTDOWN_GRACE_MS

const COMPONENTS = readdirSync(join(k8s, 'components'));
const renders: [string, () => K8sObject[]][] = [
  ['overlays/kind', () => kustomize(join(k8s, 'overlays', 'kind'))],
  ['base', () => kustomize(join(k8s, 'base'))],
  ...COMPONENTS.map((c): [string, () => K8sObject[]] => [`base + components/${c}`, () => kustomizeWithComponents([c])]),
];

const workloadsOf = (objects: K8sObject[]) =>
  objects.filter((o): o is Workload => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
const matches = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
const appOf = (image: string) => /^faultline\/([a-z0-9-]+)(:|$)/.exec(image)?.[1];

/** Loads an app's zod config schema from the build. A dynamic path on purpose: tests must not import apps (lint). */
function configSchema(app: string): {
  shape: Record<string, { safeParse(v: unknown): { success: boolean } }>;
  safeParse(v: unknown): { success: boolean; error?: { issues: { path: unknown[]; message: string }[] } };
} {
  const file = join(root, 'dist', 'apps', app, 'src', `${app}.config.js`);
  if (!existsSync(file)) throw new Error(`${file} not found: run \`npm run build\` before the tests`);
  const exports = require(file) as Record<string, unknown>;
  const schema = Object.entries(exports).find(([name]) => name.endsWith('ConfigSchema'))?.[1];
  if (!schema) throw new Error(`${file} exports no *ConfigSchema`);
  return schema as ReturnType<typeof configSchema>;
}

describe.each(renders)('%s', (_name, render) => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render();
  });
  const byKind = <T extends K8sObject>(kind: string) => objects.filter((o) => o.kind === kind) as T[];
  const configMap = (name: string) => byKind<ConfigMap>('ConfigMap').find((c) => c.metadata.name === name);
  /** The environment a container starts with: envFrom first, then env, which wins (as the kubelet resolves it). */
  const envOf = (c: Container): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const from of c.envFrom ?? []) Object.assign(env, configMap(from.configMapRef?.name ?? '')?.data ?? {});
    for (const v of c.env ?? []) {
      if (v.value !== undefined) env[v.name] = v.value;
      const cmRef = v.valueFrom?.configMapKeyRef;
      const secretRef = v.valueFrom?.secretKeyRef;
      if (cmRef) env[v.name] = configMap(cmRef.name)?.data[cmRef.key] ?? '(missing ConfigMap key)';
      if (secretRef)
        env[v.name] = DEPLOY_TIME_SECRETS[secretRef.name]?.[secretRef.key] ?? '(missing deploy-time Secret key)';
      if (v.valueFrom?.fieldRef) env[v.name] = `(downward API ${v.valueFrom.fieldRef.fieldPath})`;
    }
    return env;
  };

  it('renders objects that all validate against the Kubernetes 1.33 schemas, with no unknown fields', () => {
    expect(objects.length).toBeGreaterThan(30);
    expect(objects.flatMap(validateObject)).toEqual([]);
    expect(objects.every((o) => o.kind === 'Namespace' || o.metadata.namespace === 'faultline')).toBe(true);
  });

  it('leaves no port placeholder: every number came from ports.yaml', () => {
    const text = JSON.stringify(objects);
    expect(text).not.toMatch(/"(containerPort|port)":0\b/);
    expect(text).not.toMatch(/:0"/);
  });

  it('points every Service at a pod template and at ports its containers have', () => {
    for (const service of byKind<Service>('Service')) {
      expect({ service: service.metadata.name, ports: service.spec.ports.length > 0 }).toEqual({
        service: service.metadata.name,
        ports: true,
      });
      const pods = workloadsOf(objects).filter((w) => matches(service.spec.selector, w.spec.template.metadata.labels));
      expect({ service: service.metadata.name, pods: pods.length }).toEqual({
        service: service.metadata.name,
        pods: 1,
      });
      const ports = pods[0].spec.template.spec.containers.flatMap((c) => c.ports ?? []);
      for (const p of service.spec.ports) {
        const target = ports.find((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort);
        expect({
          service: service.metadata.name,
          port: p.name,
          found: Boolean(target),
          samePort: target?.containerPort === p.port,
        }).toEqual({ service: service.metadata.name, port: p.name, found: true, samePort: true });
      }
    }
  });

  it('gives every probe a port its container has, and gRPC services native gRPC probes with their service name', () => {
    for (const w of workloadsOf(objects)) {
      for (const c of w.spec.template.spec.containers) {
        for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe].filter((p): p is Probe => Boolean(p))) {
          const port = probe.httpGet?.port ?? probe.tcpSocket?.port ?? probe.grpc?.port;
          if (port === undefined) continue; // exec probes
          const found = (c.ports ?? []).some((p) => p.name === port || p.containerPort === port);
          expect({ container: c.name, port, found }).toEqual({ container: c.name, port, found: true });
        }
        if ((c.ports ?? []).some((p) => p.name === 'grpc')) {
          const app = appOf(c.image) ?? c.name;
          expect(c.readinessProbe?.grpc?.service).toBe(
            `faultline.${app}.v1.${app[0].toUpperCase()}${app.slice(1)}Service`,
          );
          expect(c.livenessProbe?.grpc?.service ?? '').toBe('');
        }
      }
    }
  });

  it('runs every long-lived workload with probes, resources, a locked-down securityContext and a grace period the apps fit in', () => {
    for (const w of workloadsOf(objects)) {
      const pod = w.spec.template.spec;
      expect({
        w: w.metadata.name,
        nonRoot: pod.securityContext?.runAsNonRoot,
        seccomp: pod.securityContext?.seccompProfile?.type,
      }).toEqual({ w: w.metadata.name, nonRoot: true, seccomp: 'RuntimeDefault' });
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        expect({
          c: c.name,
          drop: c.securityContext?.capabilities?.drop,
          escalation: c.securityContext?.allowPrivilegeEscalation,
        }).toEqual({ c: c.name, drop: ['ALL'], escalation: false });
        expect(Object.keys(c.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
        expect(Object.keys(c.resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
        if (w.kind === 'Job' || !pod.containers.includes(c)) continue;
        expect({ c: c.name, readiness: Boolean(c.readinessProbe), liveness: Boolean(c.livenessProbe) }).toEqual({
          c: c.name,
          readiness: true,
          liveness: true,
        });
        if (appOf(c.image)) {
          expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
          const preStop = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
          expect(pod.terminationGracePeriodSeconds ?? 30).toBeGreaterThanOrEqual(GRACEFUL_EXIT_SECONDS + preStop + 5);
        }
      }
    }
  });

  // Kubernetes removes a pod whose readiness fails from its Service's endpoints. Readiness that followed Kafka,
  // Postgres, Redis or a downstream service would take every caller out of service during that dependency's outage (and
  // a slow dependency past the probe's deadline would too): every app's probe must ask for process-only readiness.
  it('asks every app for process-only readiness (READINESS=process), on /readyz or its named gRPC health service', () => {
    const apps = workloadsOf(objects).filter(
      (w) => w.kind !== 'Job' && w.spec.template.spec.containers.some((c) => appOf(c.image)),
    );
    expect(apps.length).toBe(7);
    for (const w of apps) {
      for (const c of w.spec.template.spec.containers.filter((x) => appOf(x.image))) {
        const probe = c.readinessProbe;
        const asks = probe?.grpc ? `grpc ${probe.grpc.service ?? ''}` : `http ${probe?.httpGet?.path}`;
        expect({ c: c.name, asks }).toEqual({
          c: c.name,
          asks: probe?.grpc ? expect.stringMatching(/^grpc faultline\.[a-z]+\.v1\.[A-Za-z]+Service$/) : 'http /readyz',
        });
        // Resolved the way the app does: its schema's default (dependencies) applies when the variable is unset.
        const parsed = configSchema(appOf(c.image) as string).shape['READINESS'] as unknown as {
          parse(v: unknown): string;
        };
        expect({ c: c.name, readiness: parsed.parse(envOf(c)['READINESS']) }).toEqual({
          c: c.name,
          readiness: 'process',
        });
      }
    }
  });

  // A Deployment's default RollingUpdate (maxSurge 25% rounds up to one pod, maxUnavailable 25% down to none) starts
  // the new pod and waits for it to be Ready before stopping the old one. A logical replication slot has one active
  // reader, so a second relay pod cannot stream until the first stops: every slot holder must be replaced, not surged.
  it('replaces every replication-slot holder (the outbox relays) with strategy Recreate', () => {
    const relays = workloadsOf(objects).filter((w) =>
      w.spec.template.spec.containers.some((c) => appOf(c.image) === 'outbox-relay'),
    );
    expect(relays.map((w) => [w.kind, w.metadata.name, w.spec.strategy?.type]).sort()).toEqual([
      ['Deployment', 'outbox-relay-inventory', 'Recreate'],
      ['Deployment', 'outbox-relay-orders', 'Recreate'],
    ]);
  });

  // Pods start in any order, and a container that exits is restarted with a back-off that doubles up to 5 minutes.
  // Postgres accepts TCP connections only once its init scripts created the databases, so every pod that opens
  // DATABASE_URL at start waits for that in an init container (the kubelet runs init containers first, to success).
  it('makes every pod with a DATABASE_URL wait for Postgres first, at that same URL, with the image the node already holds', () => {
    const postgresImage = workloadsOf(objects).find((w) => w.metadata.name === 'postgres')?.spec.template.spec
      .containers[0].image;
    const users = workloadsOf(objects).filter((w) =>
      w.spec.template.spec.containers.some((c) => (c.env ?? []).some((v) => v.name === 'DATABASE_URL')),
    );
    expect(users.map((w) => w.metadata.name).sort()).toEqual([
      'inventory',
      'notifications',
      'orders',
      'outbox-relay-inventory',
      'outbox-relay-orders',
    ]);
    for (const w of users) {
      const url = w.spec.template.spec.containers.flatMap((c) => c.env ?? []).find((v) => v.name === 'DATABASE_URL');
      const waits = (w.spec.template.spec.initContainers ?? []).filter(
        (i) => i.image === postgresImage && /\bpg_isready --dbname "\$DATABASE_URL"/.test((i.command ?? []).join(' ')),
      );
      expect({ w: w.metadata.name, waits: waits.length }).toEqual({ w: w.metadata.name, waits: 1 });
      expect({ w: w.metadata.name, url: waits[0].env?.find((v) => v.name === 'DATABASE_URL')?.valueFrom }).toEqual({
        w: w.metadata.name,
        url: url?.valueFrom,
      });
    }
  });

  it('runs Postgres with the settings the services, relays and chaos runner assume (max_connections 200, logical WAL, pg_stat_statements)', () => {
    const postgres = workloadsOf(objects).find((w) => w.metadata.name === 'postgres')?.spec.template.spec.containers[0];
    const settings = Object.fromEntries(
      (postgres?.args ?? []).filter((a, i, all) => all[i - 1] === '-c').map((a) => a.split('=')),
    );
    // pg_stat_statements: n-plus-one's statement count on kind (the kind runner creates the extension in orders).
    expect(settings).toMatchObject({
      max_connections: '200',
      wal_level: 'logical',
      shared_preload_libraries: 'pg_stat_statements',
    });
  });

  it('starts Grafana without reaching for plugins on the internet (Grafana 12 preinstalls some from grafana.com)', () => {
    const grafana = workloadsOf(objects).find((w) => w.metadata.name === 'grafana')?.spec.template.spec.containers[0];
    expect(grafana?.image).toMatch(/^grafana\/grafana:12\./);
    expect(envOf(grafana as Container)['GF_PLUGINS_PREINSTALL_DISABLED']).toBe('true');
  });

  // A StatefulSet's serviceName must be a headless Service (clusterIP None): that is what gives its pods their stable
  // DNS names. Clients need an address that survives the pod being replaced, so each also keeps a ClusterIP Service.
  it('governs every StatefulSet by a headless Service, beside the ClusterIP Service its clients use', () => {
    const services = byKind<Service>('Service');
    for (const w of workloadsOf(objects).filter((x) => x.kind === 'StatefulSet')) {
      const governing = services.find((s) => s.metadata.name === w.spec.serviceName);
      expect({
        sts: w.metadata.name,
        headless: governing?.spec.clusterIP === 'None',
        selects: matches(governing?.spec.selector ?? { none: 'none' }, w.spec.template.metadata.labels),
      }).toEqual({ sts: w.metadata.name, headless: true, selects: true });
      const clients = services.find((s) => s.metadata.name === w.metadata.name);
      expect({
        sts: w.metadata.name,
        clusterIp:
          clients !== undefined &&
          clients.spec.clusterIP !== 'None' &&
          matches(clients.spec.selector, w.spec.template.metadata.labels),
      }).toEqual({ sts: w.metadata.name, clusterIp: true });
    }
  });

  it('connects the relays as their REPLICATION role, which the Postgres init creates, never as the superuser', () => {
    const relays = workloadsOf(objects).filter((w) =>
      w.spec.template.spec.containers.some((c) => appOf(c.image) === 'outbox-relay'),
    );
    expect(relays.length).toBe(2);
    const script = readFileSync(join(k8s, 'base', 'postgres', '02-outbox-relay-role.sh'), 'utf8');
    const postgres = workloadsOf(objects).find((w) => w.metadata.name === 'postgres')?.spec.template.spec;
    for (const w of relays) {
      const url = new URL(envOf(w.spec.template.spec.containers[0])['DATABASE_URL']);
      expect({ relay: w.metadata.name, user: url.username }).not.toEqual({ relay: w.metadata.name, user: 'postgres' });
      // The role the URL names is made a LOGIN REPLICATION role (no SUPERUSER), with the password Postgres is given.
      expect(script).toMatch(new RegExp(`CREATE ROLE ${url.username} WITH LOGIN REPLICATION PASSWORD :'password';`));
      expect(
        script
          .split('\n')
          .filter((l) => !l.startsWith('#'))
          .join('\n'),
      ).not.toMatch(/\bSUPERUSER\b/i);
      expect(script).toMatch(new RegExp(`GRANT SELECT ON TABLES TO ${url.username};`));
      expect(script).toContain(`for db in orders inventory; do`);
      const passwordFrom = postgres?.containers[0].env?.find((v) => v.name === 'OUTBOX_RELAY_PASSWORD')?.valueFrom
        ?.secretKeyRef;
      expect(decodeURIComponent(url.password)).toBe(
        DEPLOY_TIME_SECRETS[passwordFrom?.name ?? '']?.[passwordFrom?.key ?? ''],
      );
    }
    // The script is one of the init files Postgres runs, mounted executable so the entrypoint runs it in its own shell.
    const init = postgres?.volumes?.find((v) => v.name === 'init') as
      { configMap?: { name: string; defaultMode?: number } } | undefined;
    expect(Object.keys(configMap(init?.configMap?.name ?? '')?.data ?? {})).toContain('02-outbox-relay-role.sh');
    expect((init?.configMap?.defaultMode ?? 0o644) & 0o111).toBe(0o111);
  });

  // The kubelet expands $(NAME) in an env value only when NAME is defined earlier in the same list; otherwise the text
  // stays as it is. The downward API fills a variable from the pod's own metadata.
  it('names the pod and namespace on every span: OTEL_RESOURCE_ATTRIBUTES from the downward API', () => {
    for (const w of workloadsOf(objects)) {
      for (const c of w.spec.template.spec.containers.filter((x) => appOf(x.image))) {
        const defined: Record<string, string> = {};
        for (const v of c.env ?? []) {
          const value = v.valueFrom?.fieldRef ? `(downward API ${v.valueFrom.fieldRef.fieldPath})` : (v.value ?? '');
          defined[v.name] = value.replace(
            /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
            (whole, name: string) => defined[name] ?? whole,
          );
        }
        const attributes = Object.fromEntries(
          (defined['OTEL_RESOURCE_ATTRIBUTES'] ?? '').split(',').map((pair) => pair.split('=')),
        );
        expect({ c: c.name, pod: attributes['k8s.pod.name'], namespace: attributes['k8s.namespace.name'] }).toEqual({
          c: c.name,
          pod: '(downward API metadata.name)',
          namespace: '(downward API metadata.namespace)',
        });
      }
    }
  });

  // A pod without serviceAccountName runs as the namespace's `default` account, shared by every such pod, and the
  // kubelet mounts an API token into it unless automountServiceAccountToken is false (on the pod or its account).
  it('gives every workload its own ServiceAccount, with no API token unless it talks to the API (Prometheus discovers pods)', () => {
    const needsApi = ['prometheus'];
    const accounts = byKind<K8sObject & { automountServiceAccountToken?: boolean }>('ServiceAccount');
    const users = new Map<string, string>();
    for (const w of workloadsOf(objects)) {
      const pod = w.spec.template.spec;
      const account = accounts.find((a) => a.metadata.name === pod.serviceAccountName);
      expect({
        w: w.metadata.name,
        account: pod.serviceAccountName ?? 'default',
        exists: Boolean(account),
        sharedWith: users.get(pod.serviceAccountName ?? 'default'),
      }).toEqual({
        w: w.metadata.name,
        account: expect.not.stringMatching(/^default$/),
        exists: true,
        sharedWith: undefined,
      });
      users.set(pod.serviceAccountName ?? 'default', w.metadata.name);
      const token = pod.automountServiceAccountToken ?? account?.automountServiceAccountToken ?? true;
      expect({ w: w.metadata.name, token }).toEqual({ w: w.metadata.name, token: needsApi.includes(w.metadata.name) });
      if (!needsApi.includes(w.metadata.name))
        expect({ account: account?.metadata.name, automount: account?.automountServiceAccountToken }).toEqual({
          account: account?.metadata.name,
          automount: false,
        });
    }
  });

  it('uses only images the Dockerfile builds (faultline/<existing app>) or pinned upstream images', () => {
    for (const w of workloadsOf(objects)) {
      for (const c of [...(w.spec.template.spec.initContainers ?? []), ...w.spec.template.spec.containers]) {
        const app = appOf(c.image);
        if (c.image.startsWith('faultline/')) {
          expect({ image: c.image, app: app && existsSync(join(root, 'apps', app, 'src', 'main.ts')) }).toEqual({
            image: c.image,
            app: true,
          });
        } else {
          expect({ image: c.image, pinned: /:v?\d+\.\d+(\.\d+)?(-[a-z0-9.-]+)?$/.test(c.image) }).toEqual({
            image: c.image,
            pinned: true,
          });
        }
        expect(c.image).not.toMatch(/:latest$/);
      }
    }
  });

  it('gives every app exactly the variables its config schema knows, every required one set and valid', () => {
    const keyDir = mkdtempSync(join(tmpdir(), 'k8s-env-'));
    try {
      for (const w of workloadsOf(objects)) {
        const pod = w.spec.template.spec;
        for (const c of pod.containers) {
          const app = appOf(c.image);
          if (!app) continue;
          for (const from of c.envFrom ?? []) {
            expect({
              container: c.name,
              configMap: from.configMapRef?.name,
              exists: Boolean(configMap(from.configMapRef?.name ?? '')),
            }).toMatchObject({ exists: true });
          }
          const env = envOf(c);
          // A file path the schema checks for existence: it must be a mounted file; validate with a real temp file.
          if (env['JWT_PUBLIC_KEY_FILE']) {
            const mounted = (c.volumeMounts ?? []).some(
              (m) =>
                env['JWT_PUBLIC_KEY_FILE'].startsWith(m.mountPath + '/') &&
                pod.volumes?.find((v) => v.name === m.name)?.secret?.secretName === 'jwt-keys',
            );
            expect({ container: c.name, jwtKeyMounted: mounted }).toEqual({ container: c.name, jwtKeyMounted: true });
            env['JWT_PUBLIC_KEY_FILE'] = join(keyDir, 'jwt-public.pem');
            writeFileSync(env['JWT_PUBLIC_KEY_FILE'], 'pem');
          }
          const schema = configSchema(app);
          const known = Object.keys(schema.shape);
          const unknown = Object.keys(env).filter((k) => !known.includes(k) && !PENDING_VARIABLES[`${app}:${k}`]);
          expect({ container: c.name, unknown }).toEqual({ container: c.name, unknown: [] });
          for (const k of Object.keys(PENDING_VARIABLES).filter((p) => p.startsWith(`${app}:`))) {
            const variable = k.split(':')[1];
            if (known.includes(variable))
              throw new Error(`${app}'s schema now knows ${variable}: remove it from PENDING_VARIABLES`);
            delete env[variable];
          }
          const required = known.filter((k) => !schema.shape[k].safeParse(undefined).success);
          expect({ container: c.name, missing: required.filter((k) => !(k in env)) }).toEqual({
            container: c.name,
            missing: [],
          });
          const result = schema.safeParse(env);
          expect({
            container: c.name,
            problems: result.error?.issues.map((i) => `${String(i.path[0])}: ${i.message}`) ?? [],
          }).toEqual({ container: c.name, problems: [] });
        }
      }
    } finally {
      rmSync(keyDir, { recursive: true, force: true });
    }
  });

  it('takes every host:port address from the one ports map', () => {
    const ports = configMap('faultline-ports')?.data ?? {};
    const services = byKind<Service>('Service');
    const text = JSON.stringify(objects.filter((o) => o.kind === 'ConfigMap' || workloadsOf([o]).length > 0));
    for (const s of services) {
      for (const m of text.matchAll(new RegExp(`(?<![\\w.-])${s.metadata.name}:(\\d+)(?![\\d.])`, 'g'))) {
        expect({ address: m[0], known: s.spec.ports.some((p) => p.port === Number(m[1])) }).toEqual({
          address: m[0],
          known: true,
        });
      }
      for (const p of s.spec.ports) expect(Object.values(ports)).toContain(String(p.port));
    }
  });

  it('scrapes every service and the collector with Prometheus, and loads the repo rules', () => {
    const config = parse(
      configMap(
        byKind<ConfigMap>('ConfigMap').find((c) => c.metadata.name.startsWith('prometheus-config'))!.metadata.name,
      )!.data['prometheus.yml'],
    ) as {
      rule_files: string[];
      scrape_configs: {
        job_name: string;
        relabel_configs?: { source_labels: string[]; regex?: string; action?: string; target_label?: string }[];
      }[];
    };
    const job = config.scrape_configs.find((j) => j.job_name === 'faultline')!;
    const keep = (label: string) =>
      new RegExp(
        `^(?:${job.relabel_configs!.find((r) => r.source_labels[0] === label && r.action === 'keep')!.regex})$`,
      );
    const scraped = workloadsOf(objects)
      .filter((w) =>
        keep('__meta_kubernetes_pod_label_faultline_dev_scrape').test(
          w.spec.template.metadata.labels['faultline.dev/scrape'] ?? '',
        ),
      )
      .filter((w) =>
        w.spec.template.spec.containers.some((c) =>
          (c.ports ?? []).some((p) => keep('__meta_kubernetes_pod_container_port_name').test(p.name ?? '')),
        ),
      )
      .map((w) => w.spec.template.metadata.labels['app.kubernetes.io/name'])
      .sort();
    const apps = workloadsOf(objects)
      .filter((w) => w.spec.template.spec.containers.some((c) => appOf(c.image)))
      .map((w) => w.metadata.name);
    expect(scraped).toEqual([...apps, 'otel-collector'].sort());
    expect(job.relabel_configs!.find((r) => r.target_label === 'job')?.source_labels).toEqual([
      '__meta_kubernetes_pod_label_app_kubernetes_io_name',
    ]);
    // rule_files points at the rules mount, which holds exactly the repo's rule files.
    const prometheus = workloadsOf(objects).find((w) => w.metadata.name === 'prometheus')!.spec.template.spec;
    const mount = prometheus.containers[0].volumeMounts!.find((m) => m.name === 'rules')!;
    expect(config.rule_files).toEqual([`${mount.mountPath}/*.yml`]);
    const rules = configMap(prometheus.volumes!.find((v) => v.name === 'rules')!.configMap!.name)!;
    expect(Object.keys(rules.data).sort()).toEqual(readdirSync(join(k8s, 'base', 'prometheus', 'rules')).sort());
  });

  it('provisions exactly the dashboards in k8s/base/grafana/dashboards, each querying known datasources and metrics', () => {
    const grafana = workloadsOf(objects).find((w) => w.metadata.name === 'grafana')!.spec.template.spec;
    const dashboards = configMap(grafana.volumes!.find((v) => v.name === 'dashboards')!.configMap!.name)!;
    const files = readdirSync(join(k8s, 'base', 'grafana', 'dashboards'))
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files.length).toBeGreaterThan(0);
    expect(Object.keys(dashboards.data).sort()).toEqual(files);
    const provisioning = configMap(grafana.volumes!.find((v) => v.name === 'provisioning')!.configMap!.name)!;
    const providerPath = (parse(provisioning.data['dashboards.yaml']) as { providers: { options: { path: string } }[] })
      .providers[0].options.path;
    expect(grafana.containers[0].volumeMounts!.find((m) => m.name === 'dashboards')!.mountPath).toBe(providerPath);
    const datasources = (
      parse(provisioning.data['datasources.yaml']) as { datasources: { uid: string }[] }
    ).datasources.map((d) => d.uid);
    for (const file of files) {
      const dashboard = JSON.parse(dashboards.data[file]) as {
        uid: string;
        panels: { datasource: { uid: string }; targets: { expr: string }[] }[];
      };
      expect(dashboard.uid).toBeTruthy();
      expect(dashboard.uid).toEqual(
        JSON.parse(readFileSync(join(k8s, 'base', 'grafana', 'dashboards', file), 'utf8')).uid,
      );
      for (const panel of dashboard.panels) {
        expect(datasources).toContain(panel.datasource.uid);
        for (const t of panel.targets) {
          // Identifiers outside label matchers that name a series: each must be known, and a query must name one.
          const names = (
            t.expr
              .replace(/\{[^}]*\}|"[^"]*"|\[[^\]]*\]|\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ')
              .match(/\b[a-z_:][a-z0-9_:]*\b(?!\s*\()/g) ?? []
          ).filter((m) => m.includes('_') || m.includes(':') || m === 'up');
          expect(names.length).toBeGreaterThan(0);
          for (const m of names) expect(KNOWN_METRICS).toContain(m);
        }
      }
    }
  });

  it('references only Secrets created at deploy time, never committed ones', () => {
    expect(byKind('Secret')).toEqual([]);
    const text = JSON.stringify(workloadsOf(objects));
    for (const m of text.matchAll(/"(?:secretName|name)":"([a-z0-9-]+)","key":"([^"]+)"/g)) {
      if (configMap(m[1])) continue;
      expect(DEPLOY_TIME_SECRETS[m[1]]?.[m[2]]).toBeDefined();
    }
  });

  it("mounts the gateway's signing keys as a Secret volume without subPath, so a rotation reaches the running pod", () => {
    // The kubelet refreshes a mounted Secret in place (an atomic symlink swap), except under subPath, which pins the
    // file the pod started with: the gateway reloads JWT_PUBLIC_KEY_FILE when it changes, with no restart.
    const gateway = workloadsOf(objects).find((w) => w.metadata.name === 'gateway');
    const container = gateway?.spec.template.spec.containers.find((c) => c.name === 'gateway');
    const file = envOf(container as Container)['JWT_PUBLIC_KEY_FILE'];
    const mount = (container?.volumeMounts ?? []).find((m) => file?.startsWith(`${m.mountPath}/`));
    expect(mount).toMatchObject({ readOnly: true });
    expect(mount?.subPath).toBeUndefined();
    const volume = gateway?.spec.template.spec.volumes?.find((v) => v.name === mount?.name);
    expect(volume?.secret?.secretName).toBe('jwt-keys');
  });
});

// The kubelet reads a container's environment once, at start, and a Deployment rolls out new pods only when its
// .spec.template changes: a component that edits a ConfigMap read through envFrom (or a key of it) restarts nothing,
// so a variant applied that way would never take effect. Every change a component makes to what a pod reads must
// show in that pod's template (env on the Deployment, or a generated ConfigMap whose hashed name the template cites).
describe('naive variants (components) roll the pods they change', () => {
  const variants = COMPONENTS.filter((c) => c !== 'network-policies');
  let base: K8sObject[];
  beforeAll(() => {
    base = kustomize(join(k8s, 'base'));
  });
  const configMapIn = (objects: K8sObject[], name: string) =>
    objects.find((o): o is ConfigMap => o.kind === 'ConfigMap' && o.metadata.name === name);
  /** The pod template and every ConfigMap it reads, by name: what a pod started from this workload would see. */
  const inputsOf = (objects: K8sObject[], w: Workload) => {
    const pod = w.spec.template.spec;
    const names = new Set<string>();
    for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
      for (const from of c.envFrom ?? []) if (from.configMapRef) names.add(from.configMapRef.name);
      for (const v of c.env ?? []) if (v.valueFrom?.configMapKeyRef) names.add(v.valueFrom.configMapKeyRef.name);
    }
    for (const v of pod.volumes ?? []) if (v.configMap) names.add(v.configMap.name);
    return {
      template: JSON.stringify(w.spec.template),
      configMaps: JSON.stringify([...names].sort().map((n) => [n, configMapIn(objects, n)?.data])),
    };
  };
  /** The environment of a workload's first container, resolved as the kubelet does (env wins over envFrom). */
  const envIn = (objects: K8sObject[], workload: string): Record<string, string> => {
    const c = workloadsOf(objects).find((w) => w.metadata.name === workload)?.spec.template.spec.containers[0];
    const env: Record<string, string> = {};
    for (const from of c?.envFrom ?? [])
      Object.assign(env, configMapIn(objects, from.configMapRef?.name ?? '')?.data ?? {});
    for (const v of c?.env ?? []) if (v.value !== undefined) env[v.name] = v.value;
    return env;
  };

  it.each(variants)('%s changes the pod template of every workload whose inputs it changes', (component) => {
    const switched = kustomizeWithComponents([component]);
    const changed = workloadsOf(base).filter((w) => {
      const after = workloadsOf(switched).find((x) => x.kind === w.kind && x.metadata.name === w.metadata.name);
      return !after || JSON.stringify(inputsOf(base, w)) !== JSON.stringify(inputsOf(switched, after));
    });
    expect(changed.length).toBeGreaterThan(0);
    for (const w of changed) {
      const after = workloadsOf(switched).find(
        (x) => x.kind === w.kind && x.metadata.name === w.metadata.name,
      ) as Workload;
      expect({
        workload: w.metadata.name,
        templateChanged: inputsOf(base, w).template !== inputsOf(switched, after).template,
      }).toEqual({ workload: w.metadata.name, templateChanged: true });
    }
  });

  it("sets every naive experiment's variant, all of it, through one component", () => {
    const experimentsDir = join(root, 'chaos', 'experiments');
    const withVariant = readdirSync(experimentsDir)
      .map(
        (id) =>
          parse(readFileSync(join(experimentsDir, id, 'experiment.yaml'), 'utf8')) as {
            id: string;
            variant?: Record<string, Record<string, string>>;
            fault: { kind: { component?: string } };
          },
      )
      // A `postgres` entry is server settings, set by SQL on both targets: not a component's.
      .map((e) => ({
        ...e,
        variant: Object.fromEntries(Object.entries(e.variant ?? {}).filter(([workload]) => workload !== 'postgres')),
      }))
      .filter((e) => Object.keys(e.variant).length > 0);
    expect(withVariant.map((e) => e.id).sort()).toEqual([
      'auth-attack-naive',
      'consistency-per-feature-naive',
      'dual-write-crash',
      'incident-repair',
      'last-item-naive',
      'n-plus-one',
      'naive-fallback',
      'relay-crash-no-inbox',
      'transient-failure-no-retry',
    ]);
    const renders = variants.map((c) => [c, kustomizeWithComponents([c])] as const);
    for (const e of withVariant) {
      const providers = renders.filter(([, objects]) =>
        Object.entries(e.variant ?? {}).every(([workload, vars]) =>
          Object.entries(vars).every(([k, v]) => envIn(objects, workload)[k] === v),
        ),
      );
      // Exactly one component sets it, and it is the one the experiment names for the kind runner to apply.
      expect({ experiment: e.id, components: providers.map(([c]) => c) }).toEqual({
        experiment: e.id,
        components: [e.fault.kind.component],
      });
    }
  });
});

describe('network policies (overlays/kind)', () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = kustomize(join(k8s, 'overlays', 'kind'));
  });

  it('default-denies, then allows exactly the real edges of the architecture on ports the callee has', () => {
    const policies = policiesOf(objects);
    const pods = podsOf(objects);
    const deny = policies.find(
      (p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress && !p.spec.egress,
    );
    expect(deny?.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    const allowed: string[] = [];
    for (const to of pods) {
      for (const port of to.ports.map((p) => p.name!)) {
        if (allows(policies, 'ingress', to, 'external', port)) allowed.push(`external -> ${to.name}:${port}`);
        for (const from of pods)
          if (from !== to && connectionAllowed(policies, from, to, port))
            allowed.push(`${from.name} -> ${to.name}:${port}`);
      }
    }
    const expected = ARCHITECTURE_EDGES.map(([from, to, port]) => `${from} -> ${to}:${port}`);
    // Every edge names a port the callee really has.
    for (const [, to, port] of ARCHITECTURE_EDGES)
      expect({ to, port, exists: pods.find((p) => p.name === to)?.ports.some((p) => p.name === port) }).toEqual({
        to,
        port,
        exists: true,
      });
    expect(allowed.sort()).toEqual(expected.sort());
    // Every NetworkPolicy port by name exists on a container of the pods it selects.
    for (const p of policies) {
      for (const rule of p.spec.ingress ?? [])
        for (const rp of rule.ports ?? [])
          if (typeof rp.port === 'string')
            expect(
              pods
                .filter((x) => matches(p.spec.podSelector.matchLabels, x.labels))
                .every((x) => x.ports.some((cp) => cp.name === rp.port)),
            ).toBe(true);
      for (const rule of p.spec.egress ?? [])
        for (const rp of rule.ports ?? [])
          if (typeof rp.port === 'string')
            for (const peer of rule.to ?? [])
              expect(
                pods
                  .filter((x) => matches(peer.podSelector?.matchLabels, x.labels))
                  .every((x) => x.ports.some((cp) => cp.name === rp.port)),
              ).toBe(true);
    }
  });

  it('maps every NodePort to a kind extraPortMapping and back', () => {
    const cluster = parse(readFileSync(join(k8s, 'kind', 'cluster.yaml'), 'utf8')) as {
      nodes: { extraPortMappings?: { containerPort: number }[] }[];
    };
    const mapped = cluster.nodes
      .flatMap((n) => n.extraPortMappings ?? [])
      .map((m) => m.containerPort)
      .sort();
    const nodePorts = objects
      .filter((o): o is Service => o.kind === 'Service' && (o as Service).spec.type === 'NodePort')
      .flatMap((s) => s.spec.ports.map((p) => p.nodePort))
      .sort();
    expect(nodePorts).toEqual(mapped);
    const byService = Object.fromEntries(
      objects
        .filter((o): o is Service => o.kind === 'Service' && (o as Service).spec.type === 'NodePort')
        .map((s) => [s.metadata.name, s.spec.ports.filter((p) => p.nodePort).map((p) => p.name)]),
    );
    expect(byService).toEqual({ gateway: ['http'], grafana: ['http'], jaeger: ['ui'], prometheus: ['web'] });
  });
});

describe('the unknown-field check', () => {
  it('rejects a misspelled field that the schema types alone would accept', () => {
    const deployment = kustomize(join(k8s, 'base')).find(
      (o) => o.kind === 'Deployment' && o.metadata.name === 'orders',
    ) as Workload;
    expect(validateObject(deployment)).toEqual([]);
    const probe = deployment.spec.template.spec.containers[0].readinessProbe as Record<string, unknown>;
    (probe['grpc'] as Record<string, unknown>)['servce'] = 'faultline.orders.v1.OrdersService';
    (deployment.spec.template.spec as unknown as Record<string, unknown>)['terminationGracePeriod'] = 30;
    expect(validateObject(deployment).sort()).toEqual([
      'Deployment/orders: unknown field /spec/template/spec/containers/0/readinessProbe/grpc/servce',
      'Deployment/orders: unknown field /spec/template/spec/terminationGracePeriod',
    ]);
  });

  it('still reports type errors', () => {
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'x' },
      spec: { ports: [{ port: 'eighty' }] },
    } as unknown as K8sObject;
    expect(validateObject(service).join('\n')).toMatch(/Service\/x: \/spec\/ports\/0\/port type \{"type":"integer"\}/);
  });
});
