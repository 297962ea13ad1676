// Whether the whole kind cluster schedules on a 2-core, 4 GiB laptop. The scheduler places a pod only where the sum of
// the requests of the pods already there (not their usage) plus its own fits the node's allocatable; kind reserves
// nothing, so a one-node kind cluster's allocatable is the host's CPUs and memory. Counted: kind's own system pods,
// Chaos Mesh as k8s/kind/chaos-mesh-values.yaml installs it, every workload of the rendered kind overlay, and the
// extra pods the rollouts of `lab up` surge with.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { k8s, K8sObject, kustomize } from './support/repo';

type Resources = { requests?: { cpu?: string; memory?: string } };
type Container = { name: string; image: string; resources?: Resources };
type Workload = K8sObject & {
  spec: {
    replicas?: number;
    parallelism?: number;
    strategy?: { type?: string };
    template: { spec: { containers: Container[]; initContainers?: Container[] } };
  };
};
type Need = { cpuM: number; memMi: number };

/** The laptop the lab promises to fit, and the share of it left unrequested ("room to spare"). */
const NODE: Need = { cpuM: 2000, memMi: 4096 };
const SPARE = 0.1;

/**
 * kind's own pods on a kindest/node v1.32 control-plane node, with the requests their manifests set: kubeadm's static
 * pods (kube-apiserver 250m, kube-controller-manager 200m, kube-scheduler 100m, etcd 100m + 100Mi), CoreDNS (two
 * replicas of 100m + 70Mi), kindnet (100m + 50Mi) and kube-network-policies (100m + 50Mi; counted even where kindnet
 * enforces policies itself). kube-proxy and local-path-provisioner request nothing.
 */
const KIND_SYSTEM_PODS: Record<string, Need> = {
  'kube-apiserver': { cpuM: 250, memMi: 0 },
  'kube-controller-manager': { cpuM: 200, memMi: 0 },
  'kube-scheduler': { cpuM: 100, memMi: 0 },
  etcd: { cpuM: 100, memMi: 100 },
  'coredns (x2)': { cpuM: 200, memMi: 140 },
  kindnet: { cpuM: 100, memMi: 50 },
  'kube-network-policies': { cpuM: 100, memMi: 50 },
};

/** kubeadm's pause image per Kubernetes minor: the sandbox image a kind node of that version already holds. */
const KIND_NODE_PAUSE_IMAGE: Record<string, string> = { '1.32': 'registry.k8s.io/pause:3.10' };

export function cpuMillis(quantity: string | undefined): number {
  if (!quantity) return 0;
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(quantity);
  if (!m) throw new Error(`"${quantity}" is not a CPU quantity`);
  return m[2] ? Number(m[1]) : Number(m[1]) * 1000;
}

export function memoryMi(quantity: string | undefined): number {
  if (!quantity) return 0;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(quantity);
  if (!m) throw new Error(`"${quantity}" is not a memory quantity`);
  const bytes = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9, '': 1 }[m[2] ?? ''] as number;
  return (Number(m[1]) * bytes) / 2 ** 20;
}

const requestOf = (c: Container): Need => ({
  cpuM: cpuMillis(c.resources?.requests?.cpu),
  memMi: memoryMi(c.resources?.requests?.memory),
});
const add = (a: Need, b: Need): Need => ({ cpuM: a.cpuM + b.cpuM, memMi: a.memMi + b.memMi });
const sum = (needs: Need[]): Need => needs.reduce(add, { cpuM: 0, memMi: 0 });
const times = (n: number, a: Need): Need => ({ cpuM: n * a.cpuM, memMi: n * a.memMi });

/**
 * What the scheduler reserves for one pod: its containers run together, its init containers one at a time before
 * them, so each resource is the larger of the containers' sum and the largest init container.
 */
export function podRequest(pod: { containers: Container[]; initContainers?: Container[] }): Need {
  const running = sum(pod.containers.map(requestOf));
  const init = (pod.initContainers ?? []).map(requestOf);
  return {
    cpuM: Math.max(running.cpuM, ...init.map((i) => i.cpuM)),
    memMi: Math.max(running.memMi, ...init.map((i) => i.memMi)),
  };
}

describe('the kind cluster fits a 2-core, 4 GiB laptop', () => {
  const values = parse(readFileSync(join(k8s, 'kind', 'chaos-mesh-values.yaml'), 'utf8')) as {
    chaosDaemon: { runtime: string; socketPath: string; resources?: Resources };
    controllerManager: {
      replicaCount: number;
      resources?: Resources;
      podChaos?: { podFailure?: { pauseImage?: string } };
    };
    dashboard: { create: boolean };
    dnsServer: { create: boolean };
  };
  const cluster = parse(readFileSync(join(k8s, 'kind', 'cluster.yaml'), 'utf8')) as {
    nodes: { role: string; image: string }[];
  };
  let workloads: Workload[];
  beforeAll(() => {
    workloads = kustomize(join(k8s, 'overlays', 'kind')).filter((o): o is Workload =>
      ['Deployment', 'StatefulSet', 'Job'].includes(o.kind),
    );
  });

  it('installs Chaos Mesh small: one controller, no dashboard, no DNS server, containerd, every pod requesting its share', () => {
    expect(values.controllerManager.replicaCount).toBe(1);
    expect(values.dashboard.create).toBe(false);
    expect(values.dnsServer.create).toBe(false);
    expect(values.chaosDaemon).toMatchObject({ runtime: 'containerd', socketPath: '/run/containerd/containerd.sock' });
    for (const r of [values.controllerManager.resources, values.chaosDaemon.resources])
      expect(Object.keys(r?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
  });

  // pod-failure replaces the target containers' image with the pause image; any other image must be pulled first, from
  // a registry, while the fault is supposed to hold.
  it("sets pod-failure's pause image to the one the kind node already holds", () => {
    expect(cluster.nodes.length).toBe(1);
    const minor = /^kindest\/node:v(\d+\.\d+)\.\d+/.exec(cluster.nodes[0].image)?.[1] ?? '';
    expect({ node: cluster.nodes[0].image, pause: values.controllerManager.podChaos?.podFailure?.pauseImage }).toEqual({
      node: cluster.nodes[0].image,
      pause: KIND_NODE_PAUSE_IMAGE[minor],
    });
  });

  it('schedules everything, rollouts included, with 10% of the node left unrequested', () => {
    const kind = sum(Object.values(KIND_SYSTEM_PODS));
    // The controller runs replicaCount pods; chaos-daemon is a DaemonSet, one pod on the one node.
    const chaosMesh = add(
      times(values.controllerManager.replicaCount, {
        cpuM: cpuMillis(values.controllerManager.resources?.requests?.cpu),
        memMi: memoryMi(values.controllerManager.resources?.requests?.memory),
      }),
      {
        cpuM: cpuMillis(values.chaosDaemon.resources?.requests?.cpu),
        memMi: memoryMi(values.chaosDaemon.resources?.requests?.memory),
      },
    );
    // A Job's pods run `parallelism` at a time (default 1); the topics Job runs while everything else starts.
    const lab = sum(
      workloads.map((w) =>
        times(w.kind === 'Job' ? (w.spec.parallelism ?? 1) : (w.spec.replicas ?? 1), podRequest(w.spec.template.spec)),
      ),
    );
    // `lab up` pins every app image to a new tag, so every app Deployment rolls out at once; a RollingUpdate (the
    // default strategy) runs one extra pod of each until the new one is Ready. Recreate stops the old pod first.
    const surging = workloads.filter(
      (w) =>
        w.kind === 'Deployment' &&
        (w.spec.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate' &&
        w.spec.template.spec.containers.some((c) => c.image.startsWith('faultline/')),
    );
    const surge = sum(surging.map((w) => podRequest(w.spec.template.spec)));
    expect(surging.length).toBeGreaterThan(0);
    const total = sum([kind, chaosMesh, lab, surge]);
    const limit = { cpuM: NODE.cpuM * (1 - SPARE), memMi: NODE.memMi * (1 - SPARE) };
    const report = { kind, chaosMesh, lab, surge, total };
    expect({ ...report, cpuFits: total.cpuM <= limit.cpuM, memoryFits: total.memMi <= limit.memMi }).toEqual({
      ...report,
      cpuFits: true,
      memoryFits: true,
    });
  });

  it('counts what the scheduler counts', () => {
    expect([
      cpuMillis('25m'),
      cpuMillis('1'),
      cpuMillis('0.5'),
      memoryMi('96Mi'),
      memoryMi('1Gi'),
      memoryMi('512Ki'),
    ]).toEqual([25, 1000, 500, 96, 1024, 0.5]);
    const c = (cpu: string, memory: string): Container => ({
      name: 'c',
      image: 'x',
      resources: { requests: { cpu, memory } },
    });
    // Two containers add up; an init container larger than both counts instead, per resource.
    expect(
      podRequest({ containers: [c('25m', '96Mi'), c('25m', '32Mi')], initContainers: [c('10m', '256Mi')] }),
    ).toEqual({ cpuM: 50, memMi: 256 });
    expect(() => cpuMillis('two')).toThrow('not a CPU quantity');
  });
});
