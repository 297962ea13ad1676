import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { DEPENDENCY_PROBES, DependencyProbe, ProbeResult, runProbes } from './dependency-probe';

/**
 * What readiness answers (config READINESS). `process`: the process serves requests; Kubernetes takes an unready pod
 * out of its Service, so there readiness must not follow a dependency (one outage would unready every caller at once).
 * `dependencies`: every dependency probe answers too; the local target waits on it to know the lab is connected.
 */
export type ReadinessScope = 'process' | 'dependencies';

export const READINESS_SCOPE = Symbol('READINESS_SCOPE');

/** How long one check may wait for a dependency: well inside a Kubernetes probe's timeout (2 s in k8s/base). */
const PROBE_TIMEOUT_MS = 800;

export interface ReadinessReport {
  ready: boolean;
  scope: ReadinessScope;
  /** The dependency probes, when this check ran them. */
  checks?: ProbeResult[];
}

/** The one readiness decision, shared by `/readyz` and the gRPC health service's named service. */
@Injectable()
export class Readiness implements OnModuleDestroy {
  private stopping = false;

  constructor(
    @Inject(READINESS_SCOPE) readonly scope: ReadinessScope,
    @Inject(DEPENDENCY_PROBES) private readonly probes: DependencyProbe[],
  ) {}

  /** Readiness in the configured scope. Once shutdown began the process is not ready in either scope. */
  async check(): Promise<ReadinessReport> {
    if (this.scope === 'process') return { ready: !this.stopping, scope: 'process' };
    return { ...(await this.dependencies()), scope: 'dependencies' };
  }

  /** Every dependency probe, whatever the scope: dependency health for status pages and people. */
  async dependencies(): Promise<{ ready: boolean; checks: ProbeResult[] }> {
    const checks = await runProbes(this.probes, PROBE_TIMEOUT_MS);
    return { ready: !this.stopping && checks.every((c) => c.ok), checks };
  }

  async onModuleDestroy() {
    this.stopping = true;
    await Promise.all(this.probes.map((p) => p.close?.()));
  }
}
