export { createLogger, PinoNestLogger, type Logger } from './logging/logger';
export { LOGGER, RequestContextMiddleware } from './logging/request-context.middleware';
export { createMetricsRegistry, HttpMetrics, HttpMetricsMiddleware, METRICS_REGISTRY } from './metrics/metrics';
export { HealthController } from './health/health.controller';
export { DEPENDENCY_PROBES, runProbes, type DependencyProbe, type ProbeResult } from './health/dependency-probe';
export { Readiness, READINESS_SCOPE, type ReadinessReport, type ReadinessScope } from './health/readiness';
export { postgresProbe } from './health/postgres.probe';
export { redisProbe } from './health/redis.probe';
export { grpcHealthProbe } from './health/grpc-health.probe';
export { ObservabilityModule, type ObservabilityOptions } from './observability.module';
export {
  GrpcMetricsInterceptor,
  GrpcServerMetrics,
  grpcCodeName,
  grpcMethodLabels,
} from './metrics/grpc-server-metrics';
export { registerPgPoolMetrics, type PgPoolStats } from './metrics/pg-pool-metrics';
