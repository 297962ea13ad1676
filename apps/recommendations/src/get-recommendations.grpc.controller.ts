import { Controller, Inject, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Counter, type Registry } from 'prom-client';
import { DomainError, GrpcErrorFilter } from '@faultline/bootstrap';
import type { RecommendationsV1 } from '@faultline/contracts';
import { METRICS_REGISTRY } from '@faultline/observability';
import { PopularityStore } from './popularity.store';
import { RECOMMENDATIONS_CONFIG, type RecommendationsConfig } from './recommendations.config';

/** The proto's bound on `limit`. */
export const MAX_LIMIT = 50;

@Controller()
@UseFilters(GrpcErrorFilter)
export class GetRecommendationsGrpcController {
  private readonly served: Counter<'outcome'>;
  private readonly items: Counter;

  constructor(
    private readonly store: PopularityStore,
    @Inject(RECOMMENDATIONS_CONFIG) private readonly config: RecommendationsConfig,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.served = new Counter({
      name: 'recommendations_served_total',
      help: 'GetRecommendations answers, by outcome (ok, invalid, error)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.items = new Counter({
      name: 'recommendations_items_served_total',
      help: 'Recommendations returned over all answers',
      registers: [registry],
    });
  }

  @GrpcMethod('RecommendationsService', 'GetRecommendations')
  async handle(
    request: RecommendationsV1.GetRecommendationsRequest,
  ): Promise<RecommendationsV1.GetRecommendationsResponseInput> {
    const limit = request.limit === 0 ? this.config.RECS_DEFAULT_LIMIT : request.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      this.served.inc({ outcome: 'invalid' });
      throw new DomainError('INVALID_ARGUMENT', `limit must be 1..${MAX_LIMIT} (0: the default)`);
    }
    try {
      const items = await this.store.top(limit);
      this.served.inc({ outcome: 'ok' });
      this.items.inc(items.length);
      return { items };
    } catch (error) {
      this.served.inc({ outcome: 'error' });
      throw error;
    }
  }
}
