// What a Chaos Mesh object (v2.8.3 CRDs: PodChaos, NetworkChaos, StressChaos share this status) says about its
// fault: status.conditions (Selected, AllInjected, AllRecovered, Paused) and status.experiment.containerRecords (one
// per selected pod or container, with injectedCount / recoveredCount and the events of each attempt). The proof a
// fault fired is the controller's own record, not the fact that `kubectl apply` succeeded.

export interface ChaosRecord {
  id: string;
  phase: string;
  injectedCount: number;
  recoveredCount: number;
  /** Failed attempts, with Chaos Mesh's message (e.g. "no pod is selected", a tc error). */
  failures: string[];
}

export interface ChaosState {
  /** `kubectl get` answered NotFound: the object is gone (deleted and its finalizer released). */
  gone: boolean;
  conditions: Record<string, boolean>;
  desiredPhase?: string;
  records: ChaosRecord[];
}

interface ChaosStatusJson {
  status?: {
    conditions?: { type: string; status: string; reason?: string }[];
    experiment?: {
      desiredPhase?: string;
      containerRecords?: {
        id: string;
        phase: string;
        injectedCount: number;
        recoveredCount: number;
        selectorKey: string;
        events?: { type: string; operation: string; message?: string; timestamp: string }[];
      }[];
    };
  };
}

export function parseChaosState(json: string): ChaosState {
  const object = JSON.parse(json) as ChaosStatusJson;
  const status = object.status ?? {};
  return {
    gone: false,
    conditions: Object.fromEntries((status.conditions ?? []).map((c) => [c.type, c.status === 'True'])),
    ...(status.experiment?.desiredPhase ? { desiredPhase: status.experiment.desiredPhase } : {}),
    records: (status.experiment?.containerRecords ?? []).map((r) => ({
      id: r.id,
      phase: r.phase,
      injectedCount: r.injectedCount ?? 0,
      recoveredCount: r.recoveredCount ?? 0,
      failures: (r.events ?? [])
        .filter((e) => e.type === 'Failed')
        .map((e) => `${e.operation} failed: ${e.message ?? 'no message'}`),
    })),
  };
}

export const GONE: ChaosState = { gone: true, conditions: {}, records: [] };

/** Injected: Chaos Mesh selected at least one target, every record was injected, and it says AllInjected=True. */
export function injection(state: ChaosState): { injected: boolean; detail: string } {
  if (state.gone) return { injected: false, detail: 'the object does not exist' };
  const failures = state.records.flatMap((r) => r.failures.map((f) => `${r.id}: ${f}`));
  if (state.records.length === 0) {
    return {
      injected: false,
      detail:
        state.conditions['Selected'] === false
          ? 'no target selected (Selected=False): the selector matches no pod'
          : 'no record yet: Chaos Mesh has not selected any target',
    };
  }
  const pending = state.records.filter((r) => r.injectedCount < 1).map((r) => `${r.id} (${r.phase})`);
  const injected = pending.length === 0 && state.conditions['AllInjected'] === true;
  const done = state.records.filter((r) => r.injectedCount >= 1).map((r) => r.id);
  return {
    injected,
    detail: injected
      ? `AllInjected=True, injected into ${done.join(', ')}`
      : `AllInjected=${state.conditions['AllInjected'] ? 'True' : 'False'}; not injected: ${pending.join(', ') || 'none'}${failures.length ? `; ${failures.join('; ')}` : ''}`,
  };
}

/** Recovered: the object is gone (its finalizer waits for recovery), or it says AllRecovered=True. */
export function recovery(state: ChaosState): { recovered: boolean; detail: string } {
  if (state.gone)
    return { recovered: true, detail: 'deleted; Chaos Mesh released its finalizer after recovering every target' };
  if (state.conditions['AllRecovered'] === true)
    return {
      recovered: true,
      detail: `AllRecovered=True (${state.records.map((r) => `${r.id} recovered ${r.recoveredCount}×`).join(', ')})`,
    };
  const failures = state.records.flatMap((r) => r.failures.map((f) => `${r.id}: ${f}`));
  return { recovered: false, detail: `AllRecovered=False${failures.length ? `; ${failures.join('; ')}` : ''}` };
}

/** Pods as `kubectl get pods -o json` lists them, reduced to what proves a pod was killed or a container restarted. */
export interface PodSnapshot {
  name: string;
  uid: string;
  ready: boolean;
  deleting: boolean;
  restarts: Record<string, number>;
  /** Each container's CPU limit in cores (resources.limits.cpu), where it has one. */
  cpuLimits: Record<string, number>;
}

/** A Kubernetes CPU quantity (`500m`, `1`, `0.5`) in cores. */
export function cpuCores(quantity: string): number {
  const match = /^([0-9.]+)(m?)$/.exec(quantity.trim());
  if (!match) throw new Error(`not a CPU quantity: ${quantity}`);
  return Number(match[1]) / (match[2] === 'm' ? 1000 : 1);
}

export function parsePods(json: string): PodSnapshot[] {
  const list = JSON.parse(json) as {
    items: {
      metadata: { name: string; uid: string; deletionTimestamp?: string };
      spec?: { containers?: { name: string; resources?: { limits?: { cpu?: string } } }[] };
      status?: {
        conditions?: { type: string; status: string }[];
        containerStatuses?: { name: string; restartCount: number }[];
      };
    }[];
  };
  return list.items.map((p) => ({
    name: p.metadata.name,
    uid: p.metadata.uid,
    ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    deleting: Boolean(p.metadata.deletionTimestamp),
    restarts: Object.fromEntries((p.status?.containerStatuses ?? []).map((c) => [c.name, c.restartCount])),
    cpuLimits: Object.fromEntries(
      (p.spec?.containers ?? []).flatMap((c) =>
        c.resources?.limits?.cpu ? [[c.name, cpuCores(c.resources.limits.cpu)]] : [],
      ),
    ),
  }));
}

/** A record id is `<namespace>/<pod>` (PodChaos) or `<namespace>/<pod>/<container>` (container-kill). */
export const podOfRecord = (id: string) => id.split('/')[1] ?? id;

/**
 * pod-kill: every killed pod (named by the records) is gone or terminating, and as many ready pods with new uids
 * replaced them. container-kill: the named container of each recorded pod restarted.
 */
export function podEvidence(
  action: string | undefined,
  containers: string[],
  records: ChaosRecord[],
  before: PodSnapshot[],
  now: PodSnapshot[],
): { proven: boolean; detail: string } {
  const targets = [...new Set(records.map((r) => podOfRecord(r.id)))];
  if (action === 'pod-kill') {
    const killed = before.filter((p) => targets.includes(p.name));
    const stillThere = killed.filter((k) => now.some((p) => p.uid === k.uid && !p.deleting));
    const replacements = now.filter((p) => p.ready && !p.deleting && !before.some((b) => b.uid === p.uid));
    const proven = killed.length > 0 && stillThere.length === 0 && replacements.length >= killed.length;
    return {
      proven,
      detail: `killed ${killed.map((k) => `${k.name} (uid ${k.uid.slice(0, 8)})`).join(', ') || 'no pod seen before the fault'}; ${stillThere.length ? `still running: ${stillThere.map((p) => p.name).join(', ')}` : 'gone'}; ${replacements.length} new ready pod(s): ${replacements.map((p) => p.name).join(', ') || 'none yet'}`,
    };
  }
  if (action === 'container-kill') {
    const restarted = targets.filter((name) => {
      const b = before.find((p) => p.name === name);
      const n = now.find((p) => p.name === name);
      return b && n && containers.every((c) => (n.restarts[c] ?? 0) > (b.restarts[c] ?? 0));
    });
    return {
      proven: targets.length > 0 && restarted.length === targets.length,
      detail: `container ${containers.join(', ')} restarted in ${restarted.length} of ${targets.length} pod(s): ${restarted.join(', ') || 'none yet'}`,
    };
  }
  return { proven: true, detail: 'no pod-level evidence needed beyond the Chaos Mesh records' };
}
