import * as grpc from '@grpc/grpc-js';
import { HEALTH_V1, HealthV1, loadGrpcObject } from '@faultline/contracts';
import type { DependencyProbe } from './dependency-probe';

/**
 * Readiness of a gRPC dependency through the standard health service: `service` is the dependency's full service
 * name, so the answer is that service's own readiness in its scope (with READINESS=dependencies: its database, its
 * Kafka), not just an open port.
 */
export function grpcHealthProbe(name: string, address: string, service: string, deadlineMs = 700): DependencyProbe {
  const { Health } = loadGrpcObject(HEALTH_V1).grpc.health.v1;
  const client: HealthV1.Client = new Health(address, grpc.credentials.createInsecure());
  return {
    name,
    check: () =>
      new Promise<void>((resolve, reject) => {
        client.Check({ service }, { deadline: Date.now() + deadlineMs }, (error, response) => {
          if (error)
            return reject(
              new Error(
                error.code === grpc.status.DEADLINE_EXCEEDED ? 'deadline exceeded' : error.details || error.message,
              ),
            );
          if (response?.status !== 'SERVING') return reject(new Error(`health status ${response?.status}`));
          resolve();
        });
      }),
    close: async () => client.close(),
  };
}
