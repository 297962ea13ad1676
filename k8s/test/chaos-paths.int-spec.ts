// The paths the kind chaos runs depend on, checked against the rendered kind overlay: every connection the kind
// driver's kubectl plan opens (its `kubectl exec`'d tools included) is allowed by the NetworkPolicies, and NetworkChaos
// rules sit where they can see the traffic they are meant to change.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ARCHITECTURE_EDGES } from './support/architecture-edges';
import { allows, allowsDns, connectionAllowed, matchLabels, podsOf, policiesOf } from '@faultline/testing';
import { k8s, K8sObject, kustomize, root } from './support/repo';

type Service = K8sObject & {
  spec: {
    selector?: Record<string, string>;
    clusterIP?: string;
    ports: { name?: string; port: number; targetPort?: number | string }[];
  };
};
type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
type Container = { name: string; env?: EnvVar[]; ports?: { name?: string; containerPort?: number }[] };
type Workload = K8sObject & {
  spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } } };
};
type Selector = { labelSelectors?: Record<string, string> };
type NetworkChaos = {
  kind: string;
  metadata: { name: string };
  spec: { action: string; direction?: string; selector: Selector; target?: { selector: Selector } };
};
type Experiment = {
  id: string;
  fault: {
    local: { driver: string; edge?: string };
    kind: { manifests: string[]; probe?: { from: string; to: string } };
  };
};

const experimentsDir = join(root, 'chaos', 'experiments');
const experiments = readdirSync(experimentsDir).map((id) => ({
  dir: join(experimentsDir, id),
  experiment: parse(readFileSync(join(experimentsDir, id, 'experiment.yaml'), 'utf8')) as Experiment,
}));
const appOf = (s: Selector | undefined) => s?.labelSelectors?.['app.kubernetes.io/name'] ?? '';

/** Loads a module of the lab's build. A dynamic path on purpose: k8s/ must not import apps (lint). */
function fromBuild<T>(...path: string[]): T {
  const file = join(root, 'dist', 'apps', 'lab', 'src', ...path);
  if (!existsSync(file)) throw new Error(`${file} not found: run \`npm run build\` before the tests`);
  return require(file) as T;
}
type Argv = string[];
const { kubectlPlan } = fromBuild<{ kubectlPlan: Record<string, (...args: never[]) => Argv> }>(
  'chaos',
  'kind',
  'kind-chaos-plan.js',
);
const { jaegerPort, servicesPath } = fromBuild<{
  jaegerPort: (root: string) => number;
  servicesPath: (port: number) => string;
}>('chaos', 'kind', 'jaeger.js');
const { queryPath } = fromBuild<{ queryPath: (port: number, promql: string) => string }>(
  'chaos',
  'kind',
  'prometheus.js',
);
const { BYPASS_PROBES } = fromBuild<{ BYPASS_PROBES: readonly { from: string; to: string; control: boolean }[] }>(
  'chaos',
  'kind',
  'kind-runner.js',
);
const { renderSecretsManifest } = fromBuild<{
  renderSecretsManifest: (s: { jwtPublicKeyPem: string; postgresPassword: string; postgresPort: number }) => string;
}>('kind', 'kind-plan.js');

/** Every `kubectl exec` of the kind driver's plan: each entry called with plausible arguments, the exec ones kept. */
function execCalls(): [string, Argv][] {
  const chaosObject = {
    file: '/x.yaml',
    kind: 'PodChaos',
    resource: 'podchaos.chaos-mesh.org',
    name: 'x',
    namespace: 'faultline',
    labels: { 'app.kubernetes.io/name': 'orders' },
    containerNames: [],
  };
  return Object.entries(kubectlPlan)
    .map(([name, plan]): [string, Argv] => {
      const call = plan as (...args: unknown[]) => Argv;
      for (const args of [
        ['orders', 'SELECT 1'],
        ['inventory-5c6d7e8f9-abcde', 'inventory'],
        [chaosObject],
        [[chaosObject]],
        [['orders.events'], 'latest'],
        [{ from: 'gateway', host: 'orders', port: 50051 }],
        [3000, { time: 0, tags: [], text: '' }],
        ['00000000-0000-4000-8000-000000000001', 1999999999],
      ]) {
        try {
          return [name, call(...args)];
        } catch {
          /* the next shape of arguments */
        }
      }
      throw new Error(`kubectlPlan.${name}: none of the argument shapes this test knows fits it; teach execCalls`);
    })
    .filter(([, argv]) => argv[0] === 'exec');
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
/** `NAME://host:port` lists of a Kafka broker's listeners, by name. */
const listeners = (text: string | undefined) =>
  Object.fromEntries(
    (text ?? '')
      .split(',')
      .filter(Boolean)
      .map((l) => {
        const m = /^(\w+):\/\/([^:]*):(\d+)$/.exec(l.trim());
        if (!m) throw new Error(`listener "${l}"`);
        return [m[1], { host: m[2], port: Number(m[3]) }];
      }),
  );
/**
 * On which side of a caller → callee edge a NetworkChaos rule can match. Chaos Mesh installs its tc/ipset rules in
 * the network namespace of one side's pods and matches the other side's POD IPs as destination: `to` on the
 * selected pods (towards the target), `from` on the target pods (towards the selected ones), `both` on each. A caller
 * that reaches the callee through a Service sends to the ClusterIP, rewritten to a pod IP only after the packet left
 * its pod, so a rule on the caller's side never matches it (chaos-mesh#1227: injected, reported, and nothing
 * delayed); the callee answers straight to the caller's pod IP, which a rule on its side does match.
 */
export function matchesClusterIpTraffic(
  direction: string,
  selector: string,
  target: string,
  caller: string,
  callee: string,
): boolean {
  const ruleSides = direction === 'to' ? [selector] : direction === 'from' ? [target] : [selector, target];
  return [selector, target].sort().join() === [caller, callee].sort().join() && ruleSides.includes(callee);
}

describe('NetworkPolicies allow every path the kind chaos plan uses', () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = kustomize(join(k8s, 'overlays', 'kind'));
  });
  const policies = () => policiesOf(objects);
  const workload = (kind: string, name: string) =>
    objects.find((o): o is Workload => o.kind.toLowerCase() === kind && o.metadata.name === name);
  const podOf = (w: Workload) => podsOf([w])[0];
  const envOf = (c: Container): Record<string, string> => {
    const secrets = (
      JSON.parse(renderSecretsManifest({ jwtPublicKeyPem: '', postgresPassword: 'pw', postgresPort: 5432 })) as {
        items: { metadata: { name: string }; stringData?: Record<string, string> }[];
      }
    ).items;
    return Object.fromEntries(
      (c.env ?? []).map((v) => [
        v.name,
        v.value ??
          secrets.find((x) => x.metadata.name === v.valueFrom?.secretKeyRef?.name)?.stringData?.[
            v.valueFrom?.secretKeyRef?.key ?? ''
          ] ??
          '',
      ]),
    );
  };

  /**
   * Why `from` (a process in that pod) may open host:port, or the reason it may not. Loopback stays inside the pod's
   * network namespace, where NetworkPolicies (enforced outside it) never act; it works if a container of the pod
   * listens there. A Service name needs DNS, then the caller's egress and the callee's ingress on the target port.
   */
  const reach = (from: Workload, host: string, port: number): string | undefined => {
    if (LOOPBACK.has(host)) {
      const listening = from.spec.template.spec.containers.some(
        (c) =>
          (c.ports ?? []).some((p) => p.containerPort === port) ||
          Object.values(listeners(envOf(c)['KAFKA_LISTENERS'])).some(
            (l) => l.port === port && ['', '0.0.0.0', '127.0.0.1'].includes(l.host),
          ),
      );
      return listening ? undefined : `nothing in ${from.metadata.name} listens on ${host}:${port}`;
    }
    const service = objects.find((o): o is Service => o.kind === 'Service' && o.metadata.name === host);
    const servicePort = service?.spec.ports.find((p) => p.port === port);
    if (!service || !servicePort) return `no Service ${host} with port ${port}`;
    if (!allowsDns(policies(), podOf(from))) return `${from.metadata.name} may not ask DNS for ${host}`;
    const targets = podsOf(objects).filter((p) => matchLabels(service.spec.selector, p.labels) && p.kind !== 'Job');
    const blocked = targets.filter(
      (to) => !connectionAllowed(policies(), podOf(from), to, String(servicePort.targetPort)),
    );
    return targets.length === 0
      ? `Service ${host} selects no pod`
      : blocked.length
        ? `${from.metadata.name} -> ${blocked.map((b) => b.name).join(', ')}:${servicePort.targetPort} (via Service ${host}) is denied`
        : undefined;
  };

  /** Where an exec'd tool connects: a modelled tool, or the test fails, so a new exec cannot go unchecked. */
  const destinations = (from: Workload, container: Container, command: Argv): [string, number][] => {
    let i = 0;
    if (command[0] === 'env') for (i = 1; /^[A-Z_]+=/.test(command[i] ?? ''); i++);
    const [tool, ...args] = command.slice(i);
    const option = (...names: string[]) => {
      const at = args.findIndex((a) => names.includes(a));
      return at < 0 ? undefined : args[at + 1];
    };
    if (/^\/opt\/kafka\/bin\/kafka-[\w-]+\.sh$/.test(tool)) {
      const [host, port] = (option('--bootstrap-server') ?? '').split(':');
      // A Kafka client then connects where the broker's metadata says: the advertised address of the listener it
      // reached.
      const broker = LOOPBACK.has(host) ? from : (workload('statefulset', 'kafka') as Workload);
      const env = envOf(broker.spec.template.spec.containers.find((c) => c.name === 'kafka') as Container);
      const reached =
        Object.entries(listeners(env['KAFKA_LISTENERS'])).find(([, l]) => l.port === Number(port))?.[0] ?? '(none)';
      const advertised = listeners(env['KAFKA_ADVERTISED_LISTENERS'])[reached];
      if (!advertised) throw new Error(`the broker advertises no address for listener ${reached} (port ${port})`);
      return [
        [host, Number(port)],
        [advertised.host, advertised.port],
      ];
    }
    // psql without --host talks to the server over its Unix socket, inside the pod.
    const psqlHost = option('--host', '-h');
    if (tool === 'psql') return psqlHost ? [[psqlHost, Number(option('--port', '-p') ?? 5432)]] : [];
    // wget (Grafana's annotations): the URL's host and port.
    if (tool === 'wget') {
      const url = new URL(args[args.length - 1]);
      return [[url.hostname, Number(url.port || 80)]];
    }
    // redis-cli without -h/-p: the server of its own pod, on loopback.
    if (tool === 'redis-cli') return [[option('-h') ?? '127.0.0.1', Number(option('-p') ?? 6379)]];
    // Reading a file of the pod's own (its cgroup's CPU time): no network at all.
    if (tool === 'cat') return [];
    // The connect probe: `node -e <script> <host> <port> <tries> <timeout>`.
    if (tool === 'node' && args[0] === '-e') return [[args[2], Number(args[3])]];
    if (tool === 'node' && args[0] === 'online-migration/migrate.js') {
      const url = new URL(envOf(container)['DATABASE_URL']);
      return [[url.hostname, Number(url.port || 5432)]];
    }
    throw new Error(`no network model for the exec'd tool ${tool} (in ${from.metadata.name}): add one to this test`);
  };

  it.each(execCalls())("kubectlPlan.%s: the exec'd tool reaches every address it connects to", (_name, argv) => {
    // A workload (`deployment/orders`), or a pod by name (the cgroup read), whose workload is named as its container.
    const containerName = argv[argv.indexOf('--container') + 1];
    const [, kind, name] =
      /^(statefulset|deployment)\/(.+)$/.exec(argv.find((a) => /^(statefulset|deployment)\//.test(a)) ?? '') ??
      (['deployment', 'statefulset']
        .map((k) => [undefined, k, containerName])
        .find(([, k]) => workload(k as string, containerName)) as string[] | undefined) ??
      [];
    const from = workload(kind, name);
    expect({ execIn: `${kind}/${name}`, exists: Boolean(from) }).toEqual({ execIn: `${kind}/${name}`, exists: true });
    const container = (from as Workload).spec.template.spec.containers.find(
      (c) => c.name === argv[argv.indexOf('--container') + 1],
    );
    expect(container).toBeDefined();
    const problems = destinations(from as Workload, container as Container, argv.slice(argv.indexOf('--') + 1))
      .map(([host, port]) => reach(from as Workload, host, port))
      .filter(Boolean);
    expect(problems).toEqual([]);
  });

  it("covers the exec'd tools the plan has: the producer and the migration job at least", () => {
    expect(execCalls().map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'produce',
        'migrate',
        'psql',
        'kafkaOffsets',
        'kafkaConsume',
        'lockWatch',
        'connectProbe',
        'grafanaAnnotate',
        'groupOffsets',
        'cgroupCpu',
        'revokeToken',
      ]),
    );
  });

  // auth-attack goes around the gateway from pods with no business on orders' and inventory's gRPC: the policies must
  // drop those connects (they bind a `kubectl exec`'d probe as they bind the app), and let the gateway's controls
  // through.
  it('auth-attack: every bypass connect is denied by the NetworkPolicies, every control allowed', () => {
    const ports = (parse(readFileSync(join(k8s, 'base', 'ports.yaml'), 'utf8')) as { data: Record<string, string> })
      .data;
    const outcome = BYPASS_PROBES.map((p) => {
      const [service, portName] = p.to.split(':');
      const argv = kubectlPlan.connectProbe({
        from: p.from,
        host: service,
        port: Number(ports[`${service}-${portName}`]),
      } as never);
      const from = workload('deployment', p.from) as Workload;
      const container = from.spec.template.spec.containers.find(
        (c) => c.name === argv[argv.indexOf('--container') + 1],
      ) as Container;
      const denied = destinations(from, container, argv.slice(argv.indexOf('--') + 1))
        .map(([host, port]) => reach(from, host, port))
        .filter(Boolean);
      return { probe: `${p.from} → ${p.to}`, allowed: denied.length === 0 };
    });
    expect(outcome).toEqual(BYPASS_PROBES.map((p) => ({ probe: `${p.from} → ${p.to}`, allowed: p.control })));
    expect(BYPASS_PROBES.filter((p) => !p.control).length).toBeGreaterThan(0);
  });

  // Each NetworkChaos experiment proves its fault with connects along the edge it breaks, from a pod of one side to
  // the other's Service as the services address it: the probe must be on that edge and allowed to connect.
  it.each(
    experiments
      .filter(({ experiment }) => experiment.fault.kind.manifests.some((f) => /^network-/.test(f)))
      .map((e) => [e.experiment.id, e] as const),
  )(
    '%s probes the edge its NetworkChaos breaks, and the policies let the probe connect',
    (_id, { dir, experiment }) => {
      const probe = experiment.fault.kind.probe;
      expect(probe).toBeDefined();
      const manifest = parseAllDocuments(
        readFileSync(join(dir, experiment.fault.kind.manifests.find((f) => /^network-/.test(f)) as string), 'utf8'),
      )[0].toJSON() as NetworkChaos;
      const sides = [appOf(manifest.spec.selector), appOf(manifest.spec.target?.selector)].sort();
      const [service, portName] = (probe?.to ?? ':').split(':');
      expect([probe?.from, service].sort()).toEqual(sides);
      const ports = (parse(readFileSync(join(k8s, 'base', 'ports.yaml'), 'utf8')) as { data: Record<string, string> })
        .data;
      const argv = kubectlPlan.connectProbe({
        from: probe?.from,
        host: service,
        port: Number(ports[`${service}-${portName}`]),
      } as never);
      const from = workload('deployment', probe?.from ?? '') as Workload;
      expect(from).toBeDefined();
      const container = from.spec.template.spec.containers.find(
        (c) => c.name === argv[argv.indexOf('--container') + 1],
      ) as Container;
      expect(
        destinations(from, container, argv.slice(argv.indexOf('--') + 1))
          .map(([host, port]) => reach(from, host, port))
          .filter(Boolean),
      ).toEqual([]);
    },
  );

  // `kubectl get --raw …/services/<name>:<port>/proxy/…` is the API server connecting to the pod: from the node's
  // network, not from a pod of the namespace, so the pod's ingress must be open to peers outside it.
  it('lets the API server proxy reach Prometheus, and the host reach the gateway NodePort the load uses', () => {
    const [, service, port] =
      /\/services\/([a-z0-9-]+):(\d+)\/proxy\//.exec(
        kubectlPlan.prometheus(queryPath(9090, 'up') as never).join(' '),
      ) ?? [];
    const svc = objects.find((o): o is Service => o.kind === 'Service' && o.metadata.name === service);
    const targetPort = String(svc?.spec.ports.find((p) => p.port === Number(port))?.targetPort);
    const pods = podsOf(objects);
    const prometheus = pods.find((p) => matchLabels(svc?.spec.selector, p.labels));
    expect({
      service,
      targetPort,
      open: prometheus !== undefined && allows(policies(), 'ingress', prometheus, 'external', targetPort),
    }).toEqual({ service: 'prometheus', targetPort: 'web', open: true });
    // Jaeger's query API, the same way (the kind runner's trace checks).
    const jaegerPath = kubectlPlan.jaeger(servicesPath(jaegerPort(root)) as never).join(' ');
    const [, jService, jPort] = /\/services\/([a-z0-9-]+):(\d+)\/proxy\//.exec(jaegerPath) ?? [];
    const jSvc = objects.find((o): o is Service => o.kind === 'Service' && o.metadata.name === jService);
    const jTarget = String(jSvc?.spec.ports.find((p) => p.port === Number(jPort))?.targetPort);
    const jaeger = pods.find((p) => matchLabels(jSvc?.spec.selector, p.labels));
    expect({
      jService,
      jTarget,
      open: jaeger !== undefined && allows(policies(), 'ingress', jaeger, 'external', jTarget),
    }).toEqual({ jService: 'jaeger', jTarget: 'ui', open: true });
    const gateway = pods.find((p) => p.name === 'gateway');
    expect(gateway !== undefined && allows(policies(), 'ingress', gateway, 'external', 'http')).toBe(true);
  });

  it('the simulation denies what the policies deny: a pod reaching itself through its own Service', () => {
    const kafka = workload('statefulset', 'kafka') as Workload;
    expect(reach(kafka, 'kafka', 9092)).toBe('kafka -> kafka:kafka (via Service kafka) is denied');
    expect(reach(kafka, '127.0.0.1', 9094)).toBeUndefined();
    expect(reach(kafka, '127.0.0.1', 9999)).toBe('nothing in kafka listens on 127.0.0.1:9999');
  });
});

describe('NetworkChaos selectors and the way the traffic is addressed', () => {
  let services: Service[];
  beforeAll(() => {
    services = kustomize(join(k8s, 'overlays', 'kind')).filter((o): o is Service => o.kind === 'Service');
  });
  const chaos = experiments.flatMap(({ dir, experiment }) =>
    experiment.fault.kind.manifests
      .flatMap((file) =>
        parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => ({
          experiment,
          file,
          manifest: d.toJSON() as NetworkChaos,
        })),
      )
      .filter((m) => m.manifest.kind === 'NetworkChaos'),
  );

  it.each(chaos.map((c) => [`${c.experiment.id}/${c.file}`, c] as const))(
    '%s puts its rule where the traffic it changes is matched',
    (_name, { experiment, manifest }) => {
      const selector = appOf(manifest.spec.selector);
      const target = appOf(manifest.spec.target?.selector);
      const direction = manifest.spec.direction ?? 'to';
      const edges = ARCHITECTURE_EDGES.filter(
        ([from, to]) => [from, to].sort().join() === [selector, target].sort().join(),
      );
      expect({ selector, target, edges: edges.length > 0 }).toEqual({ selector, target, edges: true });
      for (const [caller, callee] of edges) {
        // Callers in this lab reach a callee by its Service's name (configs, the deploy-time Postgres URLs): a
        // ClusterIP.
        const service = services.find((s) => s.metadata.name === callee);
        expect({ callee, clusterIp: Boolean(service) && service?.spec.clusterIP !== 'None' }).toEqual({
          callee,
          clusterIp: true,
        });
        expect({
          edge: `${caller} -> ${callee}`,
          direction,
          selector,
          target,
          matched: matchesClusterIpTraffic(direction, selector, target, caller, callee),
        }).toEqual({
          edge: `${caller} -> ${callee}`,
          direction,
          selector,
          target,
          matched: true,
        });
      }
      // A latency on one edge locally is the same edge on kind.
      if (experiment.fault.local.edge)
        expect([selector, target].sort()).toEqual(experiment.fault.local.edge.split('->').sort());
    },
  );

  it('the rule itself: only the callee side sees ClusterIP traffic', () => {
    expect(matchesClusterIpTraffic('to', 'postgres', 'orders', 'orders', 'postgres')).toBe(true);
    expect(matchesClusterIpTraffic('to', 'orders', 'postgres', 'orders', 'postgres')).toBe(false);
    expect(matchesClusterIpTraffic('from', 'orders', 'postgres', 'orders', 'postgres')).toBe(true);
    expect(matchesClusterIpTraffic('both', 'inventory', 'kafka', 'inventory', 'kafka')).toBe(true);
    expect(matchesClusterIpTraffic('to', 'recommendations', 'gateway', 'orders', 'postgres')).toBe(false);
  });
});
