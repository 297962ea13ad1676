import { DynamicModule, Global, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { HealthController } from './health/health.controller';
import { DEPENDENCY_PROBES, DependencyProbe } from './health/dependency-probe';
import { Readiness, READINESS_SCOPE, ReadinessScope } from './health/readiness';
import type { Logger } from './logging/logger';
import { LOGGER, RequestContextMiddleware } from './logging/request-context.middleware';
import { HttpMetrics, HttpMetricsMiddleware, METRICS_REGISTRY } from './metrics/metrics';

export interface ObservabilityOptions {
  logger: Logger;
  registry: Registry;
  /** The dependencies `/readyz` checks when readiness includes them, and `/readyz/dependencies` always. */
  probes: DependencyProbe[];
  /** The config's READINESS: `process` (Kubernetes) or `dependencies` (the local target). */
  readiness: ReadinessScope;
}

/** Health, readiness, metrics and request logging for one service; import it once in the app module. */
@Global()
@Module({})
export class ObservabilityModule implements NestModule {
  static forRoot(options: ObservabilityOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      controllers: [HealthController],
      providers: [
        { provide: LOGGER, useValue: options.logger },
        { provide: METRICS_REGISTRY, useValue: options.registry },
        { provide: DEPENDENCY_PROBES, useValue: options.probes },
        { provide: READINESS_SCOPE, useValue: options.readiness },
        Readiness,
        HttpMetrics,
        RequestContextMiddleware,
        HttpMetricsMiddleware,
      ],
      exports: [LOGGER, METRICS_REGISTRY, DEPENDENCY_PROBES, Readiness],
    };
  }

  configure(consumer: MiddlewareConsumer) {
    consumer.apply(RequestContextMiddleware, HttpMetricsMiddleware).forRoutes('*path');
  }
}
