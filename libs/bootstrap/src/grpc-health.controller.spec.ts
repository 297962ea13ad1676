import 'reflect-metadata';
import { postgresProbe, Readiness, type ReadinessScope } from '@faultline/observability';
import { GrpcHealthController } from './grpc-health.controller';

const SERVICE = 'faultline.orders.v1.OrdersService';

describe('GrpcHealthController', () => {
  // A dependency that is down: nothing listens on port 1.
  const controller = (scope: ReadinessScope) => {
    const Controller = GrpcHealthController([SERVICE]);
    return new Controller(new Readiness(scope, [postgresProbe('postgres://postgres@127.0.0.1:1/none')]));
  };

  it('answers the named service SERVING in process scope (what the kind readiness probes ask), whatever the dependencies', async () => {
    const health = controller('process');
    expect(await health.check({ service: SERVICE })).toEqual({ status: 'SERVING' });
    await health.readiness.onModuleDestroy();
    // Once shutdown began the pod should leave its Service.
    expect(await health.check({ service: SERVICE })).toEqual({ status: 'NOT_SERVING' });
  });

  it('answers NOT_SERVING in dependencies scope while a dependency is down; liveness and unknown names as always', async () => {
    const health = controller('dependencies');
    try {
      expect(await health.check({ service: SERVICE })).toEqual({ status: 'NOT_SERVING' });
      expect(await health.check({ service: '' })).toEqual({ status: 'SERVING' });
      expect(await health.check({ service: 'faultline.other.v1.OtherService' })).toEqual({ status: 'SERVICE_UNKNOWN' });
    } finally {
      await health.readiness.onModuleDestroy();
    }
  });
});
