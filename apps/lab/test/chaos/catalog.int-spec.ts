// The chaos catalog (issue 7, tests of item 1): every experiment.yaml validates; every Chaos Mesh manifest for kind
// validates against the official v2.8.3 CRD schemas (unknown fields rejected) and the admission rules those schemas
// do not carry; every selector matches pods of the kind overlay; every experiment has a kind manifest and a local
// driver. The CRDs are read from ../shared/schemas (never copied into the repo); their absence fails, never skips.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse, parseAllDocuments } from 'yaml';
import { repoRoot } from '@faultline/testing';
import { experimentsDir, loadCatalog } from '../../src/chaos/catalog';
import { experimentSchema } from '../../src/chaos/experiment-schema';
import {
  EVENT_TOPICS,
  type GrpcServiceContract,
  INVENTORY_V1,
  loadGrpcObject,
  NOTIFICATIONS_V1,
  ORDERS_V1,
  RECOMMENDATIONS_V1,
} from '@faultline/contracts';
import { LOCAL_DRIVER_IMPLEMENTATIONS } from '../../src/chaos/drivers';
import { LOAD_ROUTES } from '@faultline/load';
import { resolveLayout } from '../../src/layout/lab-layout';
import { labServices } from '../../src/topology/lab-services';

const SCHEMAS = join(repoRoot, '..', 'shared', 'schemas', 'chaos-mesh-v2.8.3');
type Json = Record<string, unknown>;
type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: Json };

function requireSchemas(): void {
  if (!existsSync(SCHEMAS))
    throw new Error(
      `Chaos Mesh CRD schemas not found at ${SCHEMAS}: these tests need ../shared/schemas/chaos-mesh-v2.8.3 (CI always has it).`,
    );
}

/** Objects that declare `properties` accept nothing else (CRD schemas allow unknown fields; we catch typos). */
function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema as Json)) out[k] = closeObjects(v);
  if (out['properties'] && out['additionalProperties'] === undefined && !out['x-kubernetes-preserve-unknown-fields'])
    out['additionalProperties'] = false;
  if (typeof out['exclusiveMinimum'] === 'boolean') delete out['exclusiveMinimum'];
  if (typeof out['exclusiveMaximum'] === 'boolean') delete out['exclusiveMaximum'];
  return out;
}

const validators = new Map<string, ReturnType<Ajv['compile']>>();
function validatorFor(kind: string) {
  let validate = validators.get(kind);
  if (validate) return validate;
  const file = readdirSync(SCHEMAS).find((f) => {
    if (!f.endsWith('.yaml')) return false;
    const crd = parse(readFileSync(join(SCHEMAS, f), 'utf8')) as { spec: { names: { kind: string } } };
    return crd.spec.names.kind === kind;
  });
  if (!file) throw new Error(`no CRD for kind ${kind} in ${SCHEMAS}`);
  const crd = parse(readFileSync(join(SCHEMAS, file), 'utf8')) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: Json } }[] };
  };
  const version = crd.spec.versions.find((v) => v.name === 'v1alpha1');
  if (!version) throw new Error(`${file} has no v1alpha1`);
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  for (const format of ['int32', 'int64', 'byte', 'double', 'float']) ajv.addFormat(format, true);
  const schema = closeObjects(version.schema.openAPIV3Schema) as Json;
  // metadata is the API server's business: accept name/namespace/labels/annotations.
  (schema['properties'] as Json)['metadata'] = { type: 'object' };
  validate = ajv.compile(schema);
  validators.set(kind, validate);
  return validate;
}

const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;

/** The admission webhook's rules that the CRD schema does not carry (chaos-mesh api/v1alpha1 *_webhook.go). */
export function admissionErrors(m: Manifest): string[] {
  const errors: string[] = [];
  const spec = m.spec;
  const checkMode = (where: string, s: Json | undefined) => {
    if (!s) return;
    const mode = s['mode'] as string;
    if (!['one', 'all', 'fixed', 'fixed-percent', 'random-max-percent'].includes(mode))
      errors.push(`${where}.mode "${mode}" is not a mode`);
    if (mode?.startsWith('fixed') || mode === 'random-max-percent') {
      if (s['value'] === undefined || s['value'] === '') errors.push(`${where}.value is required with mode ${mode}`);
      else if (mode !== 'fixed' && !(Number(s['value']) > 0 && Number(s['value']) <= 100))
        errors.push(`${where}.value must be a percentage`);
    } else if (s['value'] !== undefined) errors.push(`${where}.value must be empty with mode ${mode}`);
  };
  checkMode('spec', spec);
  if (spec['duration'] !== undefined && !DURATION.test(String(spec['duration'])))
    errors.push(`spec.duration "${spec['duration']}" is not a duration`);
  if (
    m.kind === 'PodChaos' &&
    spec['action'] === 'container-kill' &&
    !(spec['containerNames'] as string[] | undefined)?.length
  )
    errors.push('container-kill needs containerNames');
  if (m.kind === 'NetworkChaos') {
    const direction = (spec['direction'] as string | undefined) ?? 'to';
    if ((direction === 'from' || direction === 'both') && !spec['target'])
      errors.push(`direction ${direction} needs a target`);
    if (spec['target']) checkMode('spec.target', spec['target'] as Json);
    const delay = spec['delay'] as Json | undefined;
    if (spec['action'] === 'delay' && !delay) errors.push('action delay needs spec.delay');
    for (const key of ['latency', 'jitter'])
      if (delay?.[key] !== undefined && !DURATION.test(String(delay[key])))
        errors.push(`delay.${key} "${delay[key]}" is not a duration`);
    const bandwidth = spec['bandwidth'] as Json | undefined;
    if (bandwidth?.['rate'] !== undefined && !/^[0-9]+(bps|kbps|mbps|gbps|tbps)$/i.test(String(bandwidth['rate'])))
      errors.push('bandwidth.rate has no valid unit');
  }
  if (m.kind === 'StressChaos') {
    const stressors = spec['stressors'] as Json | undefined;
    if (!stressors?.['cpu'] && !stressors?.['memory'] && !spec['stressngStressors'])
      errors.push('StressChaos needs at least one stressor');
    const memory = stressors?.['memory'] as Json | undefined;
    if (memory?.['size'] !== undefined && !/^[0-9]+(%|B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$/.test(String(memory['size'])))
      errors.push(`memory.size "${memory['size']}" is not a size`);
  }
  return errors;
}

function manifestsOf(dir: string): { file: string; manifest: Manifest }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'experiment.yaml')
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => ({ file, manifest: d.toJSON() as Manifest })),
    );
}

const catalog = loadCatalog(repoRoot);

describe('experiment.yaml', () => {
  it('holds every experiment of the catalog (chaos/README.md)', () => {
    expect(catalog.map((e) => e.experiment.id).sort()).toEqual(
      [
        'relay-crash',
        'relay-crash-no-inbox',
        'dual-write-crash',
        'kafka-outage',
        'double-submit',
        'last-item',
        'last-item-naive',
        'recs-latency',
        'naive-fallback',
        'redis-down',
        'poison-message',
        'dlq-replay',
        'n-plus-one',
        'online-migration',
        'online-migration-naive',
        'inventory-partition',
        'incident-repair',
        'postgres-outage',
        'consistency-per-feature',
        'consistency-per-feature-naive',
        'relay-outage-wal',
        'relay-outage-wal-capped',
        'overload',
        'auth-attack',
        'auth-attack-naive',
        'transient-failure',
        'transient-failure-no-retry',
      ].sort(),
    );
  });

  it.each(readdirSync(experimentsDir(repoRoot)))('%s validates against the schema', (id) => {
    const result = experimentSchema.safeParse(
      parse(readFileSync(join(experimentsDir(repoRoot), id, 'experiment.yaml'), 'utf8')),
    );
    expect(result.success ? [] : result.error.issues).toEqual([]);
  });

  it('rejects an unknown field (a typo never passes silently)', () => {
    const raw = parse(readFileSync(join(experimentsDir(repoRoot), 'relay-crash', 'experiment.yaml'), 'utf8')) as Json;
    expect(experimentSchema.safeParse({ ...raw, hypothsis: 'x' }).success).toBe(false);
  });

  it.each(catalog.map((e) => [e.experiment.id, e]))(
    '%s has a kind manifest for every file it names and an implemented local driver',
    (_id, entry) => {
      for (const file of entry.experiment.fault.kind.manifests) expect(existsSync(join(entry.dir, file))).toBe(true);
      expect(Object.keys(LOCAL_DRIVER_IMPLEMENTATIONS)).toContain(entry.experiment.fault.local.driver);
    },
  );
});

describe('where to look', () => {
  // Grafana: every pointer names a provisioned dashboard by its title and one of its panels by its title.
  const dashboards = readdirSync(join(repoRoot, 'k8s', 'base', 'grafana', 'dashboards'))
    .filter((f) => f.endsWith('.json'))
    .map(
      (f) =>
        JSON.parse(readFileSync(join(repoRoot, 'k8s', 'base', 'grafana', 'dashboards', f), 'utf8')) as {
          title: string;
          panels: { title: string; panels?: { title: string }[] }[];
        },
    );
  const panelsOf = (title: string) =>
    dashboards
      .filter((d) => d.title === title)
      .flatMap((d) => d.panels.flatMap((p) => [p.title, ...(p.panels ?? []).map((q) => q.title)]));
  // Jaeger on kind: services are the lab's (a variant is the same Deployment patched); operations are span names the
  // instrumentation gives: the gateway's `<METHOD> <route>`, `grpc.<service>/<method>` of the protos, `process
  // <topic>`, and the publisher's `<topic> publish` (libs/messaging's producer span).
  const services = labServices(resolveLayout({}, repoRoot), {
    postgresUrl: () => 'postgres://x/y',
    redisUrl: 'redis://x',
    kafkaBrokers: ['x:1'],
  }).map((s) => s.name);
  const grpcOperations = (
    [ORDERS_V1, INVENTORY_V1, RECOMMENDATIONS_V1, NOTIFICATIONS_V1] as GrpcServiceContract[]
  ).flatMap((c) => {
    const definition = c.package.split('.').reduce((o: Json, k) => o[k] as Json, loadGrpcObject(c) as unknown as Json)[
      c.service
    ] as { service: Record<string, unknown> };
    return Object.keys(definition.service).map((method) => `grpc.${c.fullName}/${method}`);
  });
  const operations = new Set([
    ...Object.values(LOAD_ROUTES),
    ...grpcOperations,
    ...EVENT_TOPICS.flatMap((t) => [`process ${t}`, `${t} publish`]),
  ]);

  it.each(catalog.map((e) => [e.experiment.id, e.experiment]))(
    '%s: every Grafana panel and Jaeger search it points at exists',
    (_id, experiment) => {
      const problems = [
        ...experiment.observe.grafana
          .filter((g) => !panelsOf(g.dashboard).includes(g.panel))
          .map((g) => `no panel "${g.panel}" in a dashboard titled "${g.dashboard}"`),
        ...experiment.observe.jaeger.filter((q) => !services.includes(q.service)).map((q) => `no service ${q.service}`),
        ...experiment.observe.jaeger
          .filter((q) => q.operation && !operations.has(q.operation))
          .map((q) => `no span named "${q.operation}"`),
      ];
      expect(problems).toEqual([]);
    },
  );

  it('the resolution really refuses a panel or an operation that does not exist', () => {
    expect(panelsOf('Faultline: resilience')).toContain('Fallbacks/s');
    expect(panelsOf('Faultline: resilience')).not.toContain('Gateway: fallbacks by kind');
    expect(operations.has('grpc.faultline.orders.v1.OrdersService/PlaceOrder')).toBe(true);
    expect(operations.has('PlaceOrder')).toBe(false);
  });
});

describe('Chaos Mesh manifests', () => {
  beforeAll(requireSchemas);
  const all = catalog.flatMap((e) => manifestsOf(e.dir).map((m) => ({ id: e.experiment.id, ...m })));

  it('no manifest uses HTTPChaos (gRPC hops are invisible to it)', () => {
    expect(all.filter((m) => m.manifest.kind === 'HTTPChaos').map((m) => `${m.id}/${m.file}`)).toEqual([]);
  });

  it.each(all.map((m) => [`${m.id}/${m.file}`, m.manifest]))(
    '%s validates against the CRD schema and the admission rules',
    (_name, manifest) => {
      requireSchemas();
      expect(manifest.apiVersion).toBe('chaos-mesh.org/v1alpha1');
      const validate = validatorFor(manifest.kind);
      validate(manifest);
      expect((validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`)).toEqual(
        [],
      );
      expect(admissionErrors(manifest)).toEqual([]);
    },
  );

  it('the validator really rejects unknown fields and broken admission rules', () => {
    requireSchemas();
    const good = manifestsOf(join(experimentsDir(repoRoot), 'relay-crash'))[0].manifest;
    const typo = {
      ...good,
      spec: { ...good.spec, selector: { namespaces: ['faultline'], labelSelector: { a: 'b' } } },
    };
    expect(validatorFor('PodChaos')(typo)).toBe(false);
    expect(admissionErrors({ ...good, spec: { ...good.spec, mode: 'fixed' } })).toEqual([
      'spec.value is required with mode fixed',
    ]);
    expect(admissionErrors({ ...good, spec: { ...good.spec, action: 'container-kill' } })).toEqual([
      'container-kill needs containerNames',
    ]);
    expect(
      admissionErrors({
        apiVersion: '',
        kind: 'NetworkChaos',
        metadata: { name: 'x' },
        spec: { mode: 'all', action: 'partition', direction: 'both', duration: '30 s' },
      }),
    ).toEqual(['spec.duration "30 s" is not a duration', 'direction both needs a target']);
  });

  it('every selector (and target selector) matches pods of the kind overlay, and every containerName exists', () => {
    const rendered = execFileSync('kubectl', ['kustomize', join(repoRoot, 'k8s', 'overlays', 'kind')], {
      encoding: 'utf8',
    });
    type Workload = {
      kind: string;
      metadata: { namespace?: string };
      spec?: {
        template?: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: { name: string }[] } };
      };
    };
    const pods = parseAllDocuments(rendered)
      .map((d) => d.toJSON() as Workload)
      .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind))
      .map((o) => ({
        namespace: o.metadata.namespace ?? 'default',
        labels: o.spec?.template?.metadata?.labels ?? {},
        containers: (o.spec?.template?.spec?.containers ?? []).map((c) => c.name),
      }));
    const problems: string[] = [];
    for (const { id, file, manifest } of all) {
      const selectors: [string, Json | undefined][] = [
        ['selector', manifest.spec['selector'] as Json],
        ['target.selector', (manifest.spec['target'] as Json | undefined)?.['selector'] as Json | undefined],
      ];
      for (const [where, selector] of selectors) {
        if (!selector) continue;
        const namespaces = (selector['namespaces'] as string[] | undefined) ?? [
          manifest.metadata.namespace ?? 'default',
        ];
        const labels = (selector['labelSelectors'] as Record<string, string> | undefined) ?? {};
        if (Object.keys(labels).length === 0)
          problems.push(`${id}/${file} ${where}: no labelSelectors (would select every pod)`);
        const matched = pods.filter(
          (p) => namespaces.includes(p.namespace) && Object.entries(labels).every(([k, v]) => p.labels[k] === v),
        );
        if (matched.length === 0) problems.push(`${id}/${file} ${where}: matches no pod of k8s/overlays/kind`);
        if (where === 'selector') {
          for (const name of (manifest.spec['containerNames'] as string[] | undefined) ?? []) {
            if (!matched.some((p) => p.containers.includes(name)))
              problems.push(`${id}/${file}: container ${name} not in the selected pods`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
