import { DynamicModule, Global, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { HealthController } from './health/health.controller';
import { DEPENDENCY_PROBES, DependencyProbe } from './health/dependency-probe';
import type { Logger } from './logging/logger';
import { LOGGER, RequestContextMiddleware } from './logging/request-context.middleware';
import { HttpMetrics, HttpMetricsMiddleware, METRICS_REGISTRY } from './metrics/metrics';

export interface ObservabilityOptions {
  logger: Logger;
  registry: Registry;
  /** The dependencies `/readyz` checks. */
  probes: DependencyProbe[];
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
        HttpMetrics,
        RequestContextMiddleware,
        HttpMetricsMiddleware,
      ],
      exports: [LOGGER, METRICS_REGISTRY, DEPENDENCY_PROBES],
    };
  }

  configure(consumer: MiddlewareConsumer) {
    consumer.apply(RequestContextMiddleware, HttpMetricsMiddleware).forRoutes('*path');
  }
}
