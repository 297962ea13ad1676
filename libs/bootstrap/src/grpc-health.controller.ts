import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { DEPENDENCY_PROBES, DependencyProbe, runProbes } from '@faultline/observability';

/** grpc.health.v1 ServingStatus values, as the enum names the proto loader returns. */
type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** Bounded like /readyz, so a gRPC readiness probe never hangs on a dead dependency. */
const PROBE_TIMEOUT_MS = 800;

/**
 * The standard gRPC health service (grpc.health.v1.Health/Check), used by native gRPC probes in Kubernetes.
 * The empty service name answers liveness (the server answers); a named service of ours answers readiness
 * (its dependencies answer), exactly like /healthz and /readyz on the HTTP port.
 */
export function GrpcHealthController(serviceNames: string[]) {
  @Controller()
  class HealthGrpcController {
    constructor(@Inject(DEPENDENCY_PROBES) readonly probes: DependencyProbe[]) {}

    @GrpcMethod('Health', 'Check')
    async check({ service }: { service?: string }): Promise<{ status: ServingStatus }> {
      if (!service) return { status: 'SERVING' };
      if (!serviceNames.includes(service)) return { status: 'SERVICE_UNKNOWN' };
      const results = await runProbes(this.probes, PROBE_TIMEOUT_MS);
      return { status: results.every((r) => r.ok) ? 'SERVING' : 'NOT_SERVING' };
    }
  }
  return HealthGrpcController;
}
