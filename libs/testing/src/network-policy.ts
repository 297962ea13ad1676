/** A rendered Kubernetes object, as far as policies and workloads need it. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
};

/**
 * NetworkPolicy evaluation as the API defines it, for the peers this lab uses (pods of the namespace by label, DNS in
 * kube-system, anything else as `external`): a pod selected by no policy of a direction is open in that direction;
 * once selected, a connection needs a rule of some selecting policy that names the peer (or no peer list) and the
 * port (or no port list). A connection between two pods needs the caller's egress and the callee's ingress. Policies
 * bind pods, whatever process in the pod opens the connection (an app, an init container, a `kubectl exec`'d tool).
 */
type Peer = {
  podSelector?: { matchLabels?: Record<string, string> };
  namespaceSelector?: { matchLabels?: Record<string, string> };
  ipBlock?: unknown;
};
type Rule = { from?: Peer[]; to?: Peer[]; ports?: { port?: number | string; protocol?: string }[] };
export type NetworkPolicy = K8sObject & {
  spec: {
    podSelector: { matchLabels?: Record<string, string> };
    policyTypes: string[];
    ingress?: Rule[];
    egress?: Rule[];
  };
};
export type PolicyPod = {
  name: string;
  labels: Record<string, string>;
  ports: { name?: string; containerPort?: number }[];
};

type Workload = K8sObject & {
  spec: {
    template: {
      metadata: { labels: Record<string, string> };
      spec: { containers: { ports?: { name?: string; containerPort?: number }[] }[] };
    };
  };
};

export const matchLabels = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);

export function policiesOf(objects: K8sObject[]): NetworkPolicy[] {
  return objects.filter((o): o is NetworkPolicy => o.kind === 'NetworkPolicy');
}

/** One pod per workload of the render, with the labels and named container ports policies match. */
export function podsOf(objects: K8sObject[]): (PolicyPod & { kind: string; workload: string })[] {
  return objects
    .filter((o): o is Workload => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))
    .map((w) => ({
      kind: w.kind,
      workload: w.metadata.name,
      name: w.spec.template.metadata.labels['app.kubernetes.io/name'],
      labels: w.spec.template.metadata.labels,
      ports: w.spec.template.spec.containers.flatMap((c) => c.ports ?? []),
    }));
}

/** Whether `self`'s policies of one direction let it talk to (egress) or hear from (ingress) `peer` on a named port. */
export function allows(
  policies: NetworkPolicy[],
  direction: 'ingress' | 'egress',
  self: PolicyPod,
  peer: PolicyPod | 'external',
  port: string,
): boolean {
  const selecting = policies.filter(
    (p) =>
      p.spec.policyTypes.includes(direction === 'ingress' ? 'Ingress' : 'Egress') &&
      matchLabels(p.spec.podSelector.matchLabels, self.labels),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (p.spec[direction] ?? []).some((rule) => {
      const peers = direction === 'ingress' ? rule.from : rule.to;
      const peerOk =
        peers === undefined
          ? true
          : peer !== 'external' &&
            peers.some(
              (x) => x.podSelector && !x.namespaceSelector && matchLabels(x.podSelector.matchLabels, peer.labels),
            );
      return peerOk && (rule.ports === undefined || rule.ports.some((rp) => rp.port === port));
    }),
  );
}

/** A pod-to-pod connection: the caller's egress and the callee's ingress must both allow it. */
export function connectionAllowed(policies: NetworkPolicy[], from: PolicyPod, to: PolicyPod, port: string): boolean {
  return allows(policies, 'egress', from, to, port) && allows(policies, 'ingress', to, from, port);
}

/** Whether the pod may ask cluster DNS (kube-dns in kube-system, UDP 53): every Service name needs it. */
export function allowsDns(policies: NetworkPolicy[], self: PolicyPod): boolean {
  const selecting = policies.filter(
    (p) => p.spec.policyTypes.includes('Egress') && matchLabels(p.spec.podSelector.matchLabels, self.labels),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (p.spec.egress ?? []).some(
      (rule) =>
        (rule.to === undefined ||
          rule.to.some(
            (x) =>
              x.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'kube-system' &&
              x.podSelector?.matchLabels?.['k8s-app'] === 'kube-dns',
          )) &&
        (rule.ports === undefined || rule.ports.some((rp) => rp.port === 53 && (rp.protocol ?? 'TCP') === 'UDP')),
    ),
  );
}
