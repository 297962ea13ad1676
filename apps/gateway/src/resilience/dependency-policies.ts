import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@faultline/observability';
import { DependencyPolicy, ResilienceEvents, ResilienceMetrics } from '@faultline/resilience';
import { GATEWAY_CONFIG, GatewayConfig } from '../gateway.config';
import { classifyGrpcError, isRetryableGrpcError } from './grpc-error-class';
import { recordResilienceEventOnSpan } from './resilience-tracing';

export type Dependency = 'orders' | 'inventory' | 'notifications' | 'recommendations';
export const DEPENDENCIES: readonly Dependency[] = ['orders', 'inventory', 'notifications', 'recommendations'];

/** The deadline of one call to each dependency, from config (and the breaker's timeout). */
export function deadlineOf(config: GatewayConfig, dependency: Dependency): number {
  switch (dependency) {
    case 'orders':
      return config.ORDERS_GRPC_DEADLINE_MS;
    case 'inventory':
      return config.INVENTORY_GRPC_DEADLINE_MS;
    case 'notifications':
      return config.NOTIFICATIONS_GRPC_DEADLINE_MS;
    case 'recommendations':
      return config.RECOMMENDATIONS_GRPC_DEADLINE_MS;
  }
}

/**
 * One DependencyPolicy per dependency of the gateway (deadline, breaker, retry budget), built once from config.
 * `events` also feeds tracing: short-circuits, retries and fallbacks become span events (resilience-tracing.ts).
 */
@Injectable()
export class DependencyPolicies implements OnModuleDestroy {
  readonly events = new ResilienceEvents();
  private readonly policies: Map<Dependency, DependencyPolicy>;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, @Inject(METRICS_REGISTRY) registry: Registry) {
    this.events.subscribe(recordResilienceEventOnSpan);
    const metrics = new ResilienceMetrics(registry);
    this.policies = new Map(
      DEPENDENCIES.map((dependency) => {
        const deadlineMs = deadlineOf(config, dependency);
        const policy = new DependencyPolicy({
          dependency,
          deadlineMs,
          breaker: {
            errorThresholdPercent: config.BREAKER_ERROR_THRESHOLD_PERCENT,
            volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
            rollingWindowMs: config.BREAKER_ROLLING_WINDOW_MS,
            resetTimeoutMs: config.BREAKER_RESET_TIMEOUT_MS,
            timeoutMs: deadlineMs,
          },
          retry: {
            maxRetries: config.RETRY_MAX,
            backoff: { baseMs: config.RETRY_BASE_MS, capMs: config.RETRY_CAP_MS },
            budget: { ratio: config.RETRY_BUDGET_RATIO, burst: config.RETRY_BUDGET_BURST },
          },
          classify: classifyGrpcError,
          isRetryable: isRetryableGrpcError,
          metrics,
          events: this.events,
        });
        return [dependency, policy] as const;
      }),
    );
  }

  for(dependency: Dependency): DependencyPolicy {
    return this.policies.get(dependency) as DependencyPolicy;
  }

  onModuleDestroy() {
    for (const policy of this.policies.values()) policy.shutdown();
  }
}
