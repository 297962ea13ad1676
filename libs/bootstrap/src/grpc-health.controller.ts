import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Readiness } from '@faultline/observability';

/** grpc.health.v1 ServingStatus values, as the enum names the proto loader returns. */
type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/**
 * The standard gRPC health service (grpc.health.v1.Health/Check), used by native gRPC probes in Kubernetes.
 * The empty service name answers liveness (the server answers); a named service of ours answers readiness in the
 * configured scope (READINESS), exactly like /healthz and /readyz on the HTTP port.
 */
export function GrpcHealthController(serviceNames: string[]) {
  @Controller()
  class HealthGrpcController {
    constructor(readonly readiness: Readiness) {}

    @GrpcMethod('Health', 'Check')
    async check({ service }: { service?: string }): Promise<{ status: ServingStatus }> {
      if (!service) return { status: 'SERVING' };
      if (!serviceNames.includes(service)) return { status: 'SERVICE_UNKNOWN' };
      return { status: (await this.readiness.check()).ready ? 'SERVING' : 'NOT_SERVING' };
    }
  }
  return HealthGrpcController;
}
