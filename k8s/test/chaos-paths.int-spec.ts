// The paths the kind chaos runs depend on, checked against the rendered kind overlay: NetworkChaos rules that can see
// the traffic they are meant to change.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ARCHITECTURE_EDGES } from './support/architecture-edges';
import { k8s, K8sObject, kustomize, root } from './support/repo';

type Service = K8sObject & { spec: { selector?: Record<string, string>; clusterIP?: string } };
type Selector = { labelSelectors?: Record<string, string> };
type NetworkChaos = { kind: string; metadata: { name: string }; spec: { action: string; direction?: string; selector: Selector; target?: { selector: Selector } } };
type Experiment = { id: string; fault: { local: { driver: string; edge?: string }; kind: { manifests: string[] } } };

const experimentsDir = join(root, 'chaos', 'experiments');
const experiments = readdirSync(experimentsDir).map((id) => ({ dir: join(experimentsDir, id), experiment: parse(readFileSync(join(experimentsDir, id, 'experiment.yaml'), 'utf8')) as Experiment }));
const appOf = (s: Selector | undefined) => s?.labelSelectors?.['app.kubernetes.io/name'] ?? '';

/**
 * On which side of a caller → callee edge a NetworkChaos rule can match. Chaos Mesh installs its tc/ipset rules in
 * the network namespace of one side's pods and matches the other side's POD IPs as destination: `to` on the
 * selected pods (towards the target), `from` on the target pods (towards the selected ones), `both` on each. A caller
 * that reaches the callee through a Service sends to the ClusterIP, rewritten to a pod IP only after the packet left
 * its pod, so a rule on the caller's side never matches it (chaos-mesh#1227: injected, reported, and nothing
 * delayed); the callee answers straight to the caller's pod IP, which a rule on its side does match.
 */
export function matchesClusterIpTraffic(direction: string, selector: string, target: string, caller: string, callee: string): boolean {
  const ruleSides = direction === 'to' ? [selector] : direction === 'from' ? [target] : [selector, target];
  return [selector, target].sort().join() === [caller, callee].sort().join() && ruleSides.includes(callee);
}

describe('NetworkChaos selectors and the way the traffic is addressed', () => {
  let services: Service[];
  beforeAll(() => {
    services = kustomize(join(k8s, 'overlays', 'kind')).filter((o): o is Service => o.kind === 'Service');
  });
  const chaos = experiments.flatMap(({ dir, experiment }) =>
    experiment.fault.kind.manifests.flatMap((file) => parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => ({ experiment, file, manifest: d.toJSON() as NetworkChaos }))).filter((m) => m.manifest.kind === 'NetworkChaos'),
  );

  it.each(chaos.map((c) => [`${c.experiment.id}/${c.file}`, c] as const))('%s puts its rule where the traffic it changes is matched', (_name, { experiment, manifest }) => {
    const selector = appOf(manifest.spec.selector);
    const target = appOf(manifest.spec.target?.selector);
    const direction = manifest.spec.direction ?? 'to';
    const edges = ARCHITECTURE_EDGES.filter(([from, to]) => [from, to].sort().join() === [selector, target].sort().join());
    expect({ selector, target, edges: edges.length > 0 }).toEqual({ selector, target, edges: true });
    for (const [caller, callee] of edges) {
      // Callers in this lab reach a callee by its Service's name (configs, the deploy-time Postgres URLs): a ClusterIP.
      const service = services.find((s) => s.metadata.name === callee);
      expect({ callee, clusterIp: Boolean(service) && service?.spec.clusterIP !== 'None' }).toEqual({ callee, clusterIp: true });
      expect({ edge: `${caller} -> ${callee}`, direction, selector, target, matched: matchesClusterIpTraffic(direction, selector, target, caller, callee) }).toEqual({
        edge: `${caller} -> ${callee}`,
        direction,
        selector,
        target,
        matched: true,
      });
    }
    // A latency on one edge locally is the same edge on kind.
    if (experiment.fault.local.edge) expect([selector, target].sort()).toEqual(experiment.fault.local.edge.split('->').sort());
  });

  it('the rule itself: only the callee side sees ClusterIP traffic', () => {
    expect(matchesClusterIpTraffic('to', 'postgres', 'orders', 'orders', 'postgres')).toBe(true);
    expect(matchesClusterIpTraffic('to', 'orders', 'postgres', 'orders', 'postgres')).toBe(false);
    expect(matchesClusterIpTraffic('from', 'orders', 'postgres', 'orders', 'postgres')).toBe(true);
    expect(matchesClusterIpTraffic('both', 'inventory', 'kafka', 'inventory', 'kafka')).toBe(true);
    expect(matchesClusterIpTraffic('to', 'recommendations', 'gateway', 'orders', 'postgres')).toBe(false);
  });
});
