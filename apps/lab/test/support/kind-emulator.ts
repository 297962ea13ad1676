// The kind target emulated on a real local lab, so `lab chaos run --target kind` can run whole experiments on these
// machines, which have no Docker and no cluster. LAB_KUBECTL points at a shim (kind-emulator-kubectl.js): psql in
// the postgres pod becomes the real psql against the lab's Postgres, and every other call comes here, where it is
// answered as kind + Chaos Mesh would, by acting on the lab:
//
// - workloads and pods are the lab's processes (a pod's uid changes when its process is replaced, its restart count
//   when its container is killed); Deployments' pod templates are the kind overlay rendered by the real
//   `kubectl kustomize`, and a naive variant's rollout restarts the service with the variables the overlay changes;
// - Chaos Mesh objects act on the lab: pod-kill and container-kill SIGKILL the process (the supervisor, like a
//   Deployment, starts it again), pod-failure stops Postgres or Kafka until the object is deleted, a NetworkChaos
//   sets a fault proxy on the edge the services use (delay: latency on the selected side's packets; partition:
//   blackhole, packets dropped) and StressChaos runs CPU burners counted in the target's "cgroup", capped by its
//   CPU limit from the overlay. Status follows what happened (AllInjected once the kill was seen, AllRecovered once
//   the fault is off);
// - Prometheus is the lab's, through the same API-server proxy paths; Jaeger's query API is served from the lab's
//   trace store in Jaeger's JSON model; Kafka's CLI tools read and write the lab's broker with kafkajs, printing as
//   the console tools do; the migration job and the connect probe run on the host against the same addresses.
//
// What the emulation cannot show: that a real cluster behaves the same (Chaos Mesh's tc rules, the kubelet's timing,
// cgroup accounting, NetworkPolicies). One edge differs by construction: inventory ↔ kafka cannot go through a proxy
// (the broker's metadata sends clients to its advertised address), so its partition freezes inventory (SIGSTOP), as
// the local target's inventory-partition does, and the probe from a frozen pod connects nowhere.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { parseAllDocuments } from 'yaml';
import Redis from 'ioredis';
import { REVOKED_TOKENS_KEY } from '@faultline/auth';
import { FaultProxy, type Fault } from '@faultline/fault-proxy';
import {
  connectionAllowed,
  type K8sObject,
  type NetworkPolicy,
  podsOf,
  policiesOf,
  type PolicyPod,
} from '@faultline/testing';
import { k8sPort } from '../../src/kind/k8s-ports';
import { EVENT_TOPICS } from '@faultline/contracts';
import { groupCommitted, headersToStrings, readTopics, topicEnds } from '@faultline/messaging';
import { freePort, type ExtraProcess, startExtra } from '../../src/chaos/extras';
import { cpuCores } from '../../src/chaos/kind/chaos-mesh-status';
import { durationSeconds, HEADER_SEPARATOR } from '../../src/chaos/kind/kind-chaos-plan';
import { kafkaBrokers, postgresUrl, redisUrl } from '../../src/infra/infra';
import type { LabLayout } from '../../src/layout/lab-layout';
import { LocalTarget } from '../../src/local/local-target';
import { processState } from '../../src/process/pid-file';
import { silentProgress } from '../../src/process/progress';
import { readJson, supervisorFiles, type SupervisorState } from '../../src/supervisor/supervisor-files';
import type { StoredSpan } from '../../src/tracing/otlp-receiver';
import { readStoredSpans } from '../../src/tracing/span-tree';
import { traceStoreDir } from '../../src/tracing/trace-store';
import { appEntry } from '../../src/topology/lab-services';

const NAMESPACE = 'faultline';

/**
 * The kubectl the lab CLI runs (LAB_KUBECTL): psql in the postgres pod is the real psql against the lab's Postgres,
 * its stdin and stdout streamed (the lock watch and the repair's session read as they go); every other call, with its
 * stdin when it has `--stdin`, is answered by the emulator.
 */
const SHIM = String.raw`
const { spawn } = require('node:child_process');
const args = process.argv.slice(2);
const psql = args.indexOf('psql');
if (psql > 0 && args.includes('statefulset/postgres') && args.indexOf('--') < psql) {
  const child = spawn(process.env.KIND_EMU_PSQL, ['--host', '127.0.0.1', '--port', process.env.KIND_EMU_PG_PORT, ...args.slice(psql + 1)], { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
} else {
  const chunks = [];
  const send = () =>
    fetch(process.env.KIND_EMU_URL + '/kubectl', { method: 'POST', body: JSON.stringify({ args, stdin: Buffer.concat(chunks).toString('utf8') }) })
      .then((r) => r.json())
      .then((a) => {
        process.stdout.write(a.stdout);
        process.stderr.write(a.stderr);
        process.exitCode = a.code;
      })
      .catch((e) => {
        process.stderr.write('kind emulator unreachable: ' + e.message + '\n');
        process.exitCode = 1;
      });
  if (args.includes('--stdin')) {
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', send);
  } else send();
}
`;

/** Writes the shim as an executable `kubectl` in `dir`; its path is what LAB_KUBECTL gets. */
export function writeKubectlShim(dir: string): string {
  const file = join(dir, 'kubectl');
  writeFileSync(file, `#!${process.execPath}\n${SHIM}`, { mode: 0o755 });
  return file;
}
const INFRA = ['postgres', 'kafka', 'redis', 'prometheus'] as const;
const STATEFUL = new Set(['postgres', 'kafka']);

/** An edge the services use that a NetworkChaos can cut or slow: a fault proxy sits on it for the whole lab. */
interface Edge {
  from: string;
  to: string;
  variable: string;
  target: (l: LabLayout) => number;
  value: (l: LabLayout, proxyPort: number) => string;
  /** The first bytes of the target's protocol that make it answer: the probe's round trip through the edge. */
  hello: Buffer;
}

const H2_PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);
const PG_SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
const withPort = (url: string, port: number) => {
  const u = new URL(url);
  u.port = String(port);
  return u.toString().replace(/\/$/, '');
};

export const EMULATED_EDGES: Edge[] = [
  {
    from: 'gateway',
    to: 'orders',
    variable: 'ORDERS_GRPC_ADDRESS',
    target: (l) => l.ports.ordersGrpc,
    value: (_l, p) => `127.0.0.1:${p}`,
    hello: H2_PREFACE,
  },
  {
    from: 'gateway',
    to: 'recommendations',
    variable: 'RECOMMENDATIONS_GRPC_ADDRESS',
    target: (l) => l.ports.recommendationsGrpc,
    value: (_l, p) => `127.0.0.1:${p}`,
    hello: H2_PREFACE,
  },
  {
    from: 'gateway',
    to: 'redis',
    variable: 'REDIS_URL',
    target: (l) => l.ports.redis,
    value: (l, p) => withPort(redisUrl(l), p),
    hello: Buffer.from('PING\r\n'),
  },
  {
    from: 'orders',
    to: 'postgres',
    variable: 'DATABASE_URL',
    target: (l) => l.ports.postgres,
    value: (l, p) => withPort(postgresUrl(l, 'orders'), p),
    hello: PG_SSL_REQUEST,
  },
  {
    from: 'notifications',
    to: 'postgres',
    variable: 'DATABASE_URL',
    target: (l) => l.ports.postgres,
    value: (l, p) => withPort(postgresUrl(l, 'notifications'), p),
    hello: PG_SSL_REQUEST,
  },
];

interface Answer {
  code: number;
  stdout: string;
  stderr: string;
}
const ok = (stdout = ''): Answer => ({ code: 0, stdout, stderr: '' });
const err = (stderr: string, code = 1): Answer => ({ code, stdout: '', stderr: stderr + '\n' });

/** A pod as the emulation counts it: a new generation when the pod is replaced, restarts when its container is. */
interface PodIdentity {
  generation: number;
  restarts: number;
}

interface ChaosDoc {
  apiVersion: string;
  kind: 'PodChaos' | 'NetworkChaos' | 'StressChaos';
  metadata: { name: string; namespace?: string };
  spec: {
    action?: string;
    duration?: string;
    direction?: 'to' | 'from' | 'both';
    containerNames?: string[];
    selector: { labelSelectors: Record<string, string> };
    target?: { selector: { labelSelectors: Record<string, string> } };
    delay?: { latency: string };
    stressors?: { cpu?: { workers?: number; load?: number } };
  };
}

interface LiveChaos {
  doc: ChaosDoc;
  records: { id: string; phase: string; injectedCount: number; recoveredCount: number }[];
  injected: boolean;
  recovered: boolean;
  deleted: boolean;
  /** Undo the fault; resolves when it is off. */
  heal?: () => Promise<void>;
  healing?: Promise<void>;
  timer?: NodeJS.Timeout;
  failure?: string;
}

const appOf = (labels: Record<string, string>) => labels['app.kubernetes.io/name'] ?? '';

export class KindEmulator {
  readonly calls: string[][] = [];
  private server?: Server;
  private readonly proxies = new Map<Edge, FaultProxy>();
  private readonly local: LocalTarget;
  private readonly pods = new Map<string, PodIdentity>();
  private readonly chaos = new Map<string, LiveChaos>();
  /** Variant processes standing in for a service (the supervised copy held), with the variables they add. */
  private readonly variants = new Map<string, { extra: ExtraProcess; env: Record<string, string> }>();
  private readonly rollouts = new Map<string, Promise<void>>();
  private readonly frozen = new Set<number>();
  private readonly burners = new Map<string, ChildProcess[]>();
  private readonly burnerCpu = new Map<string, number>();
  /** Each Deployment's env in the plain kind overlay, and its containers' CPU limits (cores). */
  private baseEnv = new Map<string, Record<string, string>>();
  private limits = new Map<string, number>();
  /** The overlay's NetworkPolicies and one pod per workload, which the connect probe obeys as a CNI would. */
  private policies: NetworkPolicy[] = [];
  private policyPods: (PolicyPod & { workload: string })[] = [];
  private kafka?: Kafka;

  constructor(
    private readonly layout: LabLayout,
    private readonly root: string,
    private readonly plainOverlay: string,
  ) {
    this.local = new LocalTarget(layout);
  }

  /** Starts the edges' proxies and the endpoint the shim calls. `lab up` must then get `labOverrides()`. */
  async start(): Promise<void> {
    for (const edge of EMULATED_EDGES) {
      const proxy = new FaultProxy({
        listen: { host: '127.0.0.1', port: await freePort() },
        target: { host: '127.0.0.1', port: edge.target(this.layout) },
      });
      await proxy.start();
      this.proxies.set(edge, proxy);
    }
    const rendered = this.render(join(this.root, 'k8s', 'overlays', 'kind'));
    this.baseEnv = rendered.env;
    this.limits = rendered.limits;
    this.policies = policiesOf(rendered.objects);
    this.policyPods = podsOf(rendered.objects);
    this.server = createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  /** `lab up --set` arguments that route each emulated edge through its proxy. */
  labOverrides(): string[] {
    return [...this.proxies].flatMap(([edge, proxy]) => [
      '--set',
      `${edge.from}.${edge.variable}=${edge.value(this.layout, proxy.address().port)}`,
    ]);
  }

  /** What the lab CLI needs to drive the emulation as its kind cluster. */
  env(shim: string): Record<string, string> {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('the emulator is not started');
    return {
      LAB_KUBECTL: shim,
      KIND_EMU_URL: `http://127.0.0.1:${address.port}`,
      KIND_EMU_PSQL: psqlBinary(),
      KIND_EMU_PG_PORT: String(this.layout.ports.postgres),
      LAB_KIND_GATEWAY_URL: `http://127.0.0.1:${this.layout.ports.gateway}`,
    };
  }

  async stop(): Promise<void> {
    for (const live of this.chaos.values()) await this.healNow(live).catch(() => undefined);
    for (const pid of this.frozen) process.kill(pid, 'SIGCONT');
    for (const [service, v] of this.variants) {
      await v.extra.stop();
      await this.local.hold(service, undefined).catch(() => undefined);
    }
    this.variants.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    for (const proxy of this.proxies.values()) await proxy.stop();
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += chunk;
    const { args, stdin } = JSON.parse(body) as { args: string[]; stdin: string };
    let answer: Answer;
    try {
      answer = await this.kubectl(args[0] === '--context' ? args.slice(2) : args, stdin);
    } catch (error) {
      answer = err(`kind emulator: ${(error as Error).stack ?? error}`);
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  }

  private async kubectl(args: string[], stdin: string): Promise<Answer> {
    this.calls.push(args);
    const has = (...xs: string[]) => xs.every((x) => args.includes(x));
    if (has('config', 'get-contexts')) return ok('kind-faultline\n');
    if (has('get', 'customresourcedefinitions'))
      return ok(
        args
          .filter((a) => a.endsWith('.chaos-mesh.org'))
          .map((n) => `customresourcedefinition.apiextensions.k8s.io/${n}`)
          .join('\n') + '\n',
      );
    if (has('get', 'deployments,statefulsets,jobs,pods')) return ok(JSON.stringify(await this.workloads()));
    if (args[0] === 'apply' && args.includes('--kustomize'))
      return this.applyOverlay(args[args.indexOf('--kustomize') + 1]);
    if (has('rollout', 'status')) {
      const name = args[2].split('/')[1];
      await this.rollouts.get(name);
      return ok(`deployment "${name}" successfully rolled out\n`);
    }
    if (args[0] === 'get' && args[1] === 'deployment') return ok(JSON.stringify(await this.deployment(args[2])));
    if (args[0] === 'apply' && args.includes('--filename'))
      return this.applyChaos(args[args.indexOf('--filename') + 1]);
    if (args[0] === 'delete' && args.includes('--filename'))
      return this.deleteChaos(args[args.indexOf('--filename') + 1]);
    if (args[0] === 'get' && String(args[1]).endsWith('.chaos-mesh.org')) return this.chaosStatus(args[1], args[2]);
    if (has('get', 'pods', '--selector'))
      return ok(
        JSON.stringify({ kind: 'List', items: [await this.pod(args[args.indexOf('--selector') + 1].split('=')[1])] }),
      );
    if (has('get', '--raw')) return this.raw(args[args.indexOf('--raw') + 1]);
    if (args[0] === 'exec') {
      // exec [--stdin] --namespace <ns> <pod or workload> --container <name> -- <command…>
      const dash = args.indexOf('--');
      let where = '';
      for (let i = 1; i < dash; i++) {
        if (args[i] === '--namespace' || args[i] === '--container') i++;
        else if (!args[i].startsWith('-')) where = args[i];
      }
      return this.exec(where, args.slice(dash + 1), stdin);
    }
    return err(`kind emulator: unexpected call ${JSON.stringify(args)}`);
  }

  // ---- workloads and pods -------------------------------------------------------------------------------------

  private supervised(service: string) {
    return readJson<SupervisorState>(supervisorFiles(this.layout).state)?.services[service];
  }

  /**
   * The process standing for a workload right now: a variant's, the supervised one, or an infrastructure component's.
   */
  private async pidOf(name: string): Promise<number | undefined> {
    const variant = this.variants.get(name);
    if (variant)
      return variant.extra.child.exitCode === null && variant.extra.child.signalCode === null
        ? variant.extra.child.pid
        : undefined;
    if ((INFRA as readonly string[]).includes(name))
      return (
        (
          await this.local
            .infra()
            .find((c) => c.name === name)
            ?.status()
        )?.pid ?? undefined
      );
    return this.supervised(name)?.pid ?? undefined;
  }

  private async ready(name: string): Promise<boolean> {
    const pid = await this.pidOf(name);
    if (!pid || stateOf(pid) === 'T') return false;
    const spec = this.local.services().find((s) => s.name === name);
    if (!spec) return true;
    try {
      return (await fetch(`http://127.0.0.1:${spec.httpPort}/readyz`, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      return false;
    }
  }

  private identity(name: string): PodIdentity {
    let id = this.pods.get(name);
    if (!id) this.pods.set(name, (id = { generation: 0, restarts: 0 }));
    return id;
  }

  private podName(name: string): string {
    const id = this.identity(name);
    return STATEFUL.has(name) ? `${name}-0` : `${name}-emu-${id.generation}`;
  }

  private async pod(name: string) {
    const id = this.identity(name);
    const ready = await this.ready(name);
    const limit = this.limits.get(name);
    return {
      kind: 'Pod',
      metadata: {
        name: this.podName(name),
        uid: `${name}-${id.generation}`,
        labels: { 'app.kubernetes.io/name': name },
      },
      spec: {
        containers: [{ name, ...(limit ? { resources: { limits: { cpu: `${Math.round(limit * 1000)}m` } } } : {}) }],
      },
      status: {
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
        containerStatuses: [{ name, restartCount: id.restarts }],
      },
    };
  }

  private async workloads() {
    const names = [...this.local.services().map((s) => s.name), ...INFRA];
    const items = [];
    for (const name of names) {
      const ready = (await this.ready(name)) ? 1 : 0;
      const image = (INFRA as readonly string[]).includes(name) ? `${name}:emulated` : `faultline/${name}:emulated`;
      items.push({
        kind: STATEFUL.has(name) ? 'StatefulSet' : 'Deployment',
        metadata: { name },
        spec: { replicas: 1, template: { spec: { containers: [{ name, image }] } } },
        status: { replicas: 1, readyReplicas: ready, updatedReplicas: 1 },
      });
      items.push(await this.pod(name));
    }
    return { kind: 'List', items };
  }

  private async deployment(name: string) {
    const variant = this.variants.get(name)?.env ?? {};
    const ready = (await this.ready(name)) ? 1 : 0;
    return {
      kind: 'Deployment',
      metadata: { name },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name,
                env: Object.entries({ ...this.baseEnv.get(name), ...variant }).map(([k, value]) => ({
                  name: k,
                  value,
                })),
              },
            ],
          },
        },
      },
      status: { replicas: 1, updatedReplicas: 1, readyReplicas: ready },
    };
  }

  /** The Deployments' env and CPU limits of an overlay, by the real kustomize. */
  private render(dir: string): {
    env: Map<string, Record<string, string>>;
    limits: Map<string, number>;
    objects: K8sObject[];
  } {
    const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const env = new Map<string, Record<string, string>>();
    const limits = new Map<string, number>();
    const objects: K8sObject[] = [];
    for (const doc of parseAllDocuments(out)) {
      if (doc.toJS()) objects.push(doc.toJS() as K8sObject);
      const o = doc.toJS() as {
        kind?: string;
        metadata?: { name: string };
        spec?: {
          template?: {
            spec?: {
              containers?: { env?: { name: string; value?: string }[]; resources?: { limits?: { cpu?: string } } }[];
            };
          };
        };
      } | null;
      if (!o?.metadata || (o.kind !== 'Deployment' && o.kind !== 'StatefulSet')) continue;
      const container = o.spec?.template?.spec?.containers?.[0];
      env.set(
        o.metadata.name,
        Object.fromEntries((container?.env ?? []).flatMap((e) => (e.value !== undefined ? [[e.name, e.value]] : []))),
      );
      const cpu = container?.resources?.limits?.cpu;
      if (cpu) limits.set(o.metadata.name, cpuCores(cpu));
    }
    return { env, limits, objects };
  }

  /**
   * Server-side apply of an overlay: every Deployment whose variables differ from the plain overlay's runs with them.
   */
  private async applyOverlay(dir: string): Promise<Answer> {
    const { env } = this.render(dir);
    const changed: string[] = [];
    for (const [name, vars] of env) {
      if (!this.local.services().some((s) => s.name === name)) continue;
      const base = this.baseEnv.get(name) ?? {};
      const diff = Object.fromEntries(Object.entries(vars).filter(([k, v]) => base[k] !== v));
      const current = this.variants.get(name)?.env ?? {};
      if (JSON.stringify(diff) === JSON.stringify(current)) continue;
      changed.push(name);
      const previous = this.rollouts.get(name) ?? Promise.resolve();
      this.rollouts.set(
        name,
        previous.then(() => this.rollOut(name, diff)),
      );
    }
    return ok(changed.map((n) => `deployment.apps/${n} serverside-applied`).join('\n') + '\n');
  }

  private async rollOut(service: string, diff: Record<string, string>): Promise<void> {
    const running = this.variants.get(service);
    if (running) {
      await running.extra.stop();
      this.variants.delete(service);
    }
    if (Object.keys(diff).length === 0) {
      await this.local.hold(service, undefined);
    } else {
      if (!running) await this.local.hold(service, 'kind emulator: a naive variant is rolled out');
      // Same name and same ports: the service's spans, metrics and logs stay where the runner looks for them.
      const extra = await startExtra(
        this.layout,
        this.local,
        service,
        service,
        { OTEL_SERVICE_NAME: service, ...diff },
        { samePorts: true },
      );
      this.variants.set(service, { extra, env: diff });
    }
    this.identity(service).generation++;
  }

  // ---- Chaos Mesh objects -------------------------------------------------------------------------------------

  private async applyChaos(file: string): Promise<Answer> {
    const doc = parseAllDocuments(readFileSync(file, 'utf8'))[0].toJS() as ChaosDoc;
    const key = `${doc.kind.toLowerCase()}.chaos-mesh.org/${doc.metadata.name}`;
    const existing = this.chaos.get(key);
    if (existing && !existing.deleted) return ok(`${key} unchanged\n`);
    const live: LiveChaos = { doc, records: [], injected: false, recovered: false, deleted: false };
    this.chaos.set(key, live);
    void this.inject(live).catch((error: Error) => (live.failure = error.message));
    if (doc.spec.duration)
      live.timer = setTimeout(() => void this.healNow(live), durationSeconds(doc.spec.duration) * 1000);
    return ok(`${key} created\n`);
  }

  private async deleteChaos(file: string): Promise<Answer> {
    const doc = parseAllDocuments(readFileSync(file, 'utf8'))[0].toJS() as ChaosDoc;
    const key = `${doc.kind.toLowerCase()}.chaos-mesh.org/${doc.metadata.name}`;
    const live = this.chaos.get(key);
    if (!live || live.deleted) return ok('');
    live.deleted = true;
    void this.healNow(live).then(() => {
      if (this.chaos.get(key) === live) this.chaos.delete(key);
    });
    return ok(`${key.replace('/', ' "')}" deleted\n`);
  }

  private healNow(live: LiveChaos): Promise<void> {
    clearTimeout(live.timer);
    live.healing ??= (async () => {
      await live.heal?.();
      live.recovered = true;
      for (const r of live.records) r.recoveredCount = 1;
    })();
    return live.healing;
  }

  private chaosStatus(resource: string, name: string): Answer {
    const live = this.chaos.get(`${resource}/${name}`);
    if (!live) return err(`Error from server (NotFound): ${resource} "${name}" not found`);
    const c = (type: string, s: boolean) => ({ type, status: s ? 'True' : 'False' });
    const t = new Date().toISOString();
    return ok(
      JSON.stringify({
        apiVersion: 'chaos-mesh.org/v1alpha1',
        kind: live.doc.kind,
        metadata: { name, namespace: NAMESPACE, ...(live.deleted ? { deletionTimestamp: t } : {}) },
        status: {
          conditions: [
            c('Selected', live.records.length > 0),
            c('AllInjected', live.injected),
            c('AllRecovered', live.recovered),
            c('Paused', false),
          ],
          experiment: {
            desiredPhase: live.deleted || live.recovered ? 'Stop' : 'Run',
            containerRecords: live.records.map((r) => ({
              ...r,
              selectorKey: '.',
              events: live.failure
                ? [{ type: 'Failed', operation: 'Apply', message: live.failure, timestamp: t }]
                : [{ type: 'Succeeded', operation: 'Apply', timestamp: t }],
            })),
          },
        },
      }),
    );
  }

  private async inject(live: LiveChaos): Promise<void> {
    const { doc } = live;
    const app = appOf(doc.spec.selector.labelSelectors);
    const record = (id: string) =>
      live.records.push({ id, phase: 'Not Injected', injectedCount: 0, recoveredCount: 0 });
    const injected = () => {
      for (const r of live.records) {
        r.phase = 'Injected';
        r.injectedCount = 1;
      }
      live.injected = true;
    };
    if (doc.kind === 'PodChaos' && (doc.spec.action === 'pod-kill' || doc.spec.action === 'container-kill')) {
      const container = doc.spec.containerNames?.[0] ?? app;
      record(
        doc.spec.action === 'pod-kill'
          ? `${NAMESPACE}/${this.podName(app)}`
          : `${NAMESPACE}/${this.podName(app)}/${container}`,
      );
      await this.kill(app, doc.spec.action === 'pod-kill');
      injected();
      return;
    }
    if (
      doc.kind === 'PodChaos' &&
      doc.spec.action === 'pod-failure' &&
      this.local.services().some((s) => s.name === app)
    ) {
      // A service's container swapped for a pause image: the process gone until the object is deleted, then started
      // again.
      record(`${NAMESPACE}/${this.podName(app)}`);
      const variant = this.variants.get(app);
      if (variant) await variant.extra.stop();
      else await this.local.hold(app, 'kind emulator: pod-failure');
      live.heal = async () => {
        if (variant) await variant.extra.restart();
        else await this.local.hold(app, undefined);
        this.identity(app).restarts++;
      };
      injected();
      return;
    }
    if (doc.kind === 'PodChaos' && doc.spec.action === 'pod-failure') {
      const component = this.local.infra().find((c) => c.name === app);
      if (!component) throw new Error(`pod-failure of ${app}: no such service or infrastructure component`);
      record(`${NAMESPACE}/${this.podName(app)}`);
      await component.stop();
      live.heal = async () => {
        await component.start(silentProgress);
      };
      injected();
      return;
    }
    if (doc.kind === 'NetworkChaos') {
      const other = appOf(doc.spec.target?.selector.labelSelectors ?? {});
      record(`${NAMESPACE}/${this.podName(app)}`);
      const edge = EMULATED_EDGES.find((e) => (e.from === app && e.to === other) || (e.from === other && e.to === app));
      if (!edge) {
        const service = [app, other].find(
          (n) => this.local.services().some((s) => s.name === n) && !EMULATED_EDGES.some((e) => e.from === n),
        );
        if (!service || doc.spec.action !== 'partition')
          throw new Error(`no emulated edge between ${app} and ${other}`);
        const pid = await this.pidOf(service);
        if (!pid) throw new Error(`${service} is not running`);
        process.kill(pid, 'SIGSTOP');
        this.frozen.add(pid);
        live.heal = async () => {
          process.kill(pid, 'SIGCONT');
          this.frozen.delete(pid);
        };
        injected();
        return;
      }
      const proxy = this.proxies.get(edge) as FaultProxy;
      const fault: Fault =
        doc.spec.action === 'partition'
          ? { kind: 'blackhole' }
          : {
              kind: 'latency',
              ms: Math.round(durationSeconds(doc.spec.delay?.latency ?? '0ms') * 1000),
              // netem on the selected pods' egress: towards the target when they are the client, back when they are the
              // server.
              direction:
                doc.spec.direction === 'both'
                  ? 'both'
                  : (app === edge.from) === (doc.spec.direction !== 'from')
                    ? 'upstream'
                    : 'downstream',
            };
      proxy.set(fault);
      live.heal = async () => proxy.set({ kind: 'none' });
      injected();
      return;
    }
    if (doc.kind === 'StressChaos') {
      record(`${NAMESPACE}/${this.podName(app)}`);
      const cpu = doc.spec.stressors?.cpu;
      const asked = cpu ? ((cpu.workers ?? 1) * (cpu.load ?? 100)) / 100 : 0;
      const cores = Math.min(asked, this.limits.get(app) ?? asked);
      const workers = cpu?.workers ?? 0;
      const burners: ChildProcess[] = [];
      for (let i = 0; i < workers; i++)
        burners.push(spawn(process.execPath, ['-e', BURNER, String(cores / workers)], { stdio: 'ignore' }));
      this.burners.set(app, burners);
      live.heal = async () => {
        for (const b of burners) {
          this.burnerCpu.set(app, (this.burnerCpu.get(app) ?? 0) + processCpuUsec(b.pid ?? 0));
          b.kill('SIGKILL');
        }
        this.burners.delete(app);
      };
      injected();
      return;
    }
    throw new Error(`the emulation has no ${doc.kind} ${doc.spec.action ?? ''}`);
  }

  /** SIGKILL, then wait for the replacement (the supervisor's restart, or the variant started again) to be ready. */
  private async kill(service: string, replacePod: boolean): Promise<void> {
    const variant = this.variants.get(service);
    const before = this.supervised(service);
    const pid = await this.pidOf(service);
    if (!pid) throw new Error(`${service} is not running`);
    process.kill(pid, 'SIGKILL');
    if (variant) {
      await variant.extra.exited;
      await variant.extra.restart();
    } else {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const now = this.supervised(service);
        if (now?.pid && now.pid !== pid && now.restarts > (before?.restarts ?? 0)) break;
        await sleep(100);
      }
    }
    const id = this.identity(service);
    if (replacePod) id.generation++;
    else id.restarts++;
    const deadline = Date.now() + 60_000;
    while (!(await this.ready(service)) && Date.now() < deadline) await sleep(200);
  }

  // ---- Prometheus and Jaeger through the API server's proxy ---------------------------------------------------

  private async raw(path: string): Promise<Answer> {
    const prom = /^\/api\/v1\/namespaces\/faultline\/services\/prometheus:\d+\/proxy(\/.*)$/.exec(path);
    if (prom) {
      const res = await fetch(`http://127.0.0.1:${this.layout.ports.prometheus}${prom[1]}`);
      const text = await res.text();
      return res.ok ? ok(text) : err(`Error from server: ${text}`);
    }
    const jaeger = /^\/api\/v1\/namespaces\/faultline\/services\/jaeger:\d+\/proxy(\/api\/[^?]*)(?:\?(.*))?$/.exec(
      path,
    );
    if (jaeger) {
      const spans = readStoredSpans(traceStoreDir(this.layout));
      if (jaeger[1] === '/api/services') return ok(JSON.stringify({ data: [...new Set(spans.map((s) => s.service))] }));
      const q = new URLSearchParams(jaeger[2] ?? '');
      return ok(
        JSON.stringify({
          data: jaegerTraces(
            spans,
            q.get('service') ?? '',
            Number(q.get('start')) / 1000,
            Number(q.get('end')) / 1000,
            Number(q.get('limit') ?? 20),
          ),
        }),
      );
    }
    return err(`Error from server (NotFound): the server could not find the requested resource (${path})`);
  }

  // ---- kubectl exec -------------------------------------------------------------------------------------------

  private async exec(where: string, command: string[], stdin: string): Promise<Answer> {
    const app =
      where
        .split('/')
        .pop()
        ?.replace(/-emu-\d+$|-0$/, '') ?? '';
    if (where === 'statefulset/kafka' && command[0] === 'env') return this.kafkaTool(command.slice(2), stdin);
    if (where === 'deployment/grafana') return err('error: the kind emulation has no Grafana pod', 1);
    if (command[0] === 'cat' && command[1] === '/sys/fs/cgroup/cpu.stat') {
      const pid = await this.pidOf(app);
      if (!pid) return err(`error: unable to upgrade connection: container not found ("${app}")`);
      const usec =
        treeCpuUsec(pid) +
        (this.burnerCpu.get(app) ?? 0) +
        (this.burners.get(app) ?? []).reduce((sum, b) => sum + processCpuUsec(b.pid ?? 0), 0);
      return ok(`usage_usec ${Math.round(usec)}\nuser_usec ${Math.round(usec)}\nsystem_usec 0\n`);
    }
    if (command[0] === 'node' && command[1] === '-e')
      return this.connectProbe(app, command[3], Number(command[4]), Number(command[5]), Number(command[6]));
    if (
      where === 'deployment/redis' &&
      command[0] === 'redis-cli' &&
      command[1] === 'ZADD' &&
      command[2] === REVOKED_TOKENS_KEY
    ) {
      const redis = new Redis(redisUrl(this.layout), { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        return ok(`(integer) ${await redis.zadd(command[2], Number(command[3]), command[4])}\n`);
      } finally {
        redis.disconnect();
      }
    }
    if (command[0] === 'node' && command[1] === 'online-migration/migrate.js') {
      const spec = this.local.services().find((s) => s.name === 'orders');
      const entry = join(this.root, 'dist', 'apps', 'orders', 'src', 'online-migration', 'migrate.js');
      if (!spec || !existsSync(entry) || !existsSync(appEntry(this.layout, spec.app)))
        return err('error: the orders image has no migration job (build first)');
      return run(process.execPath, [entry, ...command.slice(2)], {
        ...process.env,
        ...spec.env,
        ...this.variants.get('orders')?.env,
      });
    }
    return err(`kind emulator: unexpected exec in ${where}: ${JSON.stringify(command).slice(0, 200)}`);
  }

  /**
   * The connect probe, from the pod of `from` to `host:port` as the Service names it: through the edge's proxy, timed
   * to the target's first answer (the probe's TCP connect would end at the proxy, which a delay does not hold).
   */
  private async connectProbe(
    from: string,
    host: string,
    servicePort: number,
    tries: number,
    timeoutMs: number,
  ): Promise<Answer> {
    const ms: number[] = [];
    let failed = 0;
    const fromPid = await this.pidOf(from);
    const edge = EMULATED_EDGES.find((e) => e.from === from && e.to === host);
    // The NetworkPolicies bind the probe as they bind the pod's app: a connection they do not allow is dropped.
    const portName = (['grpc', 'http'] as const).find((name) => this.portOr(`${host}-${name}`) === servicePort);
    const [fromPod, toPod] = [
      this.policyPods.find((p) => p.workload === from),
      this.policyPods.find((p) => p.workload === host),
    ];
    if (portName && fromPod && toPod && !connectionAllowed(this.policies, fromPod, toPod, portName)) {
      await sleep(tries * timeoutMs);
      return ok(JSON.stringify({ ms, failed: tries }) + '\n');
    }
    const direct =
      portName === 'grpc' ? (this.layout.ports as unknown as Record<string, number>)[`${host}Grpc`] : undefined;
    for (let i = 0; i < tries; i++) {
      if (fromPid && this.frozen.has(fromPid)) {
        failed++;
        continue;
      }
      const port = edge
        ? (this.proxies.get(edge) as FaultProxy).address().port
        : host === 'kafka'
          ? this.layout.ports.kafka
          : direct;
      if (!port) return err(`kind emulator: no edge ${from} → ${host}`);
      const took = await firstAnswer(port, edge?.hello, timeoutMs);
      if (took === undefined) failed++;
      else ms.push(took);
    }
    return ok(JSON.stringify({ ms, failed }) + '\n');
  }

  private portOr(key: string): number | undefined {
    try {
      return k8sPort(this.root, key);
    } catch {
      return undefined;
    }
  }

  // ---- Kafka's CLI tools --------------------------------------------------------------------------------------

  private client(): Kafka {
    this.kafka ??= new Kafka({
      clientId: 'kind-emulator',
      brokers: kafkaBrokers(this.layout),
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    });
    return this.kafka;
  }

  private async kafkaTool(command: string[], stdin: string): Promise<Answer> {
    const tool = command[0].split('/').pop();
    const opt = (name: string) => (command.includes(name) ? command[command.indexOf(name) + 1] : undefined);
    const brokers = kafkaBrokers(this.layout);
    try {
      if (tool === 'kafka-topics.sh') {
        const admin = this.client().admin();
        await admin.connect();
        try {
          return ok((await admin.listTopics()).join('\n') + '\n');
        } finally {
          await admin.disconnect();
        }
      }
      if (tool === 'kafka-get-offsets.sh') {
        const topics = (opt('--topic') ?? '')
          .replace(/^\^\(|\)\$$/g, '')
          .split('|')
          .map((t) => t.replace(/\\/g, ''));
        const admin = this.client().admin();
        await admin.connect();
        try {
          const lines: string[] = [];
          for (const topic of topics) {
            for (const p of await admin.fetchTopicOffsets(topic))
              lines.push(`${topic}:${p.partition}:${opt('--time') === '-2' ? p.low : p.high}`);
          }
          return ok(lines.join('\n') + '\n');
        } finally {
          await admin.disconnect();
        }
      }
      if (tool === 'kafka-console-consumer.sh') {
        const topic = opt('--topic') ?? '';
        const partition = Number(opt('--partition'));
        const from = opt('--offset') ?? '0';
        const max = Number(opt('--max-messages') ?? '1');
        const ends = await topicEnds(brokers, [topic]);
        const records = (
          await readTopics(brokers, [topic], {
            [topic]: Object.fromEntries(
              Object.keys(ends[topic] ?? {}).map((p) => [p, Number(p) === partition ? from : ends[topic][Number(p)]]),
            ),
          })
        )
          .filter((r) => r.partition === partition)
          .slice(0, max);
        const lines = records.map((r) => {
          const headers = Object.entries(headersToStrings(r.headers));
          return [
            `CreateTime:${r.timestamp}`,
            `Partition:${r.partition}`,
            `Offset:${r.offset}`,
            headers.length ? headers.map(([k, v]) => `${k}:${v}`).join(HEADER_SEPARATOR) : 'NO_HEADERS',
            r.key ?? 'null',
            r.value ?? 'null',
          ].join('\t');
        });
        return ok(lines.join('\n') + (lines.length ? '\n' : ''));
      }
      if (tool === 'kafka-consumer-groups.sh') {
        const group = opt('--group') ?? '';
        const lines = ['', 'GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID'];
        for (const topic of EVENT_TOPICS) {
          const ends = (await topicEnds(brokers, [topic]))[topic] ?? {};
          const committed = await groupCommitted(brokers, group, topic);
          for (const [p, end] of Object.entries(ends)) {
            const current = committed[Number(p)];
            lines.push(
              [
                group,
                topic,
                p,
                current ?? '-',
                end,
                current === undefined ? '-' : String(BigInt(end) - BigInt(current)),
                '-',
                '-',
                '-',
              ].join(' '),
            );
          }
        }
        return ok(lines.join('\n') + '\n');
      }
      if (tool === 'kafka-console-producer.sh') {
        const topic = opt('--topic') ?? '';
        const producer = this.client().producer();
        await producer.connect();
        try {
          for (const line of stdin.split('\n').filter(Boolean)) {
            const [rawHeaders, key, ...value] = line.split('\t');
            const headers = Object.fromEntries(
              rawHeaders.split(',').map((h) => [h.slice(0, h.indexOf(':')), h.slice(h.indexOf(':') + 1)]),
            );
            await producer.send({ topic, acks: -1, messages: [{ key, value: value.join('\t'), headers }] });
          }
          return ok('');
        } finally {
          await producer.disconnect();
        }
      }
    } catch (error) {
      return err(`${tool}: ${(error as Error).message}`);
    }
    return err(`kind emulator: no Kafka tool ${tool}`);
  }
}

/**
 * A CPU burner at `share` of one core, counted in CPU time rather than wall time: it runs until it has had its share
 * of each second (as a cgroup's quota lets it), so a busy machine delays its burn instead of shrinking it.
 */
const BURNER = [
  'const share = Math.min(1, Number(process.argv[1]));',
  'const nap = new Int32Array(new SharedArrayBuffer(4));',
  'let t0 = process.hrtime.bigint(); let c0 = process.cpuUsage();',
  'for (;;) {',
  '  const wallUs = Number(process.hrtime.bigint() - t0) / 1e3;',
  '  const u = process.cpuUsage(c0);',
  '  if (u.user + u.system < share * wallUs) { const until = Date.now() + 5; while (Date.now() < until) {} } else Atomics.wait(nap, 0, 0, 5);',
  '  if (wallUs > 1e6) { t0 = process.hrtime.bigint(); c0 = process.cpuUsage(); }',
  '}',
].join('\n');

const TICK_USEC = 1e6 / 100;

/** utime + stime of one process, in microseconds (USER_HZ 100). */
function processCpuUsec(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_USEC;
  } catch {
    return 0;
  }
}

/** A process and its descendants (Postgres' backends), as a container's cgroup would count them. */
function treeCpuUsec(root: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* gone meanwhile */
    }
  }
  let sum = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    sum += processCpuUsec(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return sum;
}

/** The kernel's state of `pid`, or undefined once it is gone. */
function stateOf(pid: number): string | undefined {
  try {
    return processState(pid);
  } catch {
    return undefined;
  }
}

/** ms from connecting to the first byte the target answers `hello` with (or to the connect, without a hello). */
function firstAnswer(port: number, hello: Buffer | undefined, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = connect(port, '127.0.0.1');
    const done = (value: number | undefined) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.once('connect', () => {
      if (!hello) done(performance.now() - t0);
      else socket.write(hello);
    });
    socket.once('data', () => done(performance.now() - t0));
  });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Answer> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

function psqlBinary(): string {
  for (const candidate of ['/usr/lib/postgresql/15/bin/psql', '/usr/bin/psql'])
    if (existsSync(candidate)) return candidate;
  return 'psql';
}

const KINDS = ['internal', 'server', 'client', 'producer', 'consumer'];

/** The stored spans of the traces that have a span of `service` starting in [fromMs, toMs], in Jaeger's model. */
export function jaegerTraces(spans: StoredSpan[], service: string, fromMs: number, toMs: number, limit: number) {
  const byTrace = new Map<string, StoredSpan[]>();
  for (const s of spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
  const ms = (nanos: string) => Number(BigInt(nanos) / 1_000_000n);
  const traces = [...byTrace.values()]
    .filter((t) => t.some((s) => s.service === service && ms(s.startUnixNano) >= fromMs && ms(s.startUnixNano) <= toMs))
    .slice(0, limit);
  return traces.map((trace) => {
    const services = [...new Set(trace.map((s) => s.service))];
    const tag = (key: string, value: string | number | boolean) => ({
      key,
      type: typeof value === 'number' ? 'float64' : typeof value === 'boolean' ? 'bool' : 'string',
      value,
    });
    return {
      traceID: trace[0].traceId,
      processes: Object.fromEntries(services.map((s, i) => [`p${i + 1}`, { serviceName: s }])),
      spans: trace.map((s) => ({
        traceID: s.traceId,
        spanID: s.spanId,
        operationName: s.name,
        references: s.parentSpanId ? [{ refType: 'CHILD_OF', traceID: s.traceId, spanID: s.parentSpanId }] : [],
        startTime: Number(BigInt(s.startUnixNano) / 1000n),
        duration: Number((BigInt(s.endUnixNano) - BigInt(s.startUnixNano)) / 1000n),
        tags: [
          ...Object.entries(s.attributes).map(([k, v]) => tag(k, v)),
          tag('span.kind', KINDS[s.kind - 1] ?? 'internal'),
          ...(s.status?.code === 2
            ? [tag('otel.status_code', 'ERROR'), tag('error', true)]
            : s.status?.code === 1
              ? [tag('otel.status_code', 'OK')]
              : []),
          ...(s.status?.message ? [tag('otel.status_description', s.status.message)] : []),
        ],
        logs: s.events.map((e) => ({
          timestamp: Number(BigInt(s.startUnixNano) / 1000n),
          fields: [tag('event', e.name), ...Object.entries(e.attributes).map(([k, v]) => tag(k, v))],
        })),
        processID: `p${services.indexOf(s.service) + 1}`,
      })),
    };
  });
}
