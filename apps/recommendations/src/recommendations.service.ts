import { Controller, Inject, Injectable, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Counter, type Registry } from 'prom-client';
import { DomainError, GrpcErrorFilter } from '@faultline/bootstrap';
import type { ParsedEvent, RecommendationsV1 } from '@faultline/contracts';
import { ORDERS_EVENTS_TOPIC } from '@faultline/contracts';
import { ConsumerLifecycle, ConsumerSpec, HandleContext, HandleOutcome } from '@faultline/messaging';
import { METRICS_REGISTRY } from '@faultline/observability';
import { PopularityStore } from './popularity.store';
import { RECOMMENDATIONS_CONFIG, type RecommendationsConfig } from './recommendations.config';

export const RECOMMENDATIONS_CONSUMER = 'recommendations';
/** The proto's bound on `limit`. */
export const MAX_LIMIT = 50;

/**
 * Adds each confirmed order's quantities to the popularity ranking, exactly once per event: the event id and the
 * increments are one Redis script (PopularityStore.recordOrder), so a redelivery changes nothing.
 */
@Injectable()
export class OrderConfirmedMessageController extends ConsumerLifecycle {
  constructor(
    private readonly store: PopularityStore,
    @Inject(RECOMMENDATIONS_CONFIG) private readonly config: RecommendationsConfig,
  ) {
    super();
  }

  protected consumerSpec(): ConsumerSpec {
    return {
      brokers: this.config.KAFKA_BROKERS,
      clientId: 'recommendations',
      groupId: RECOMMENDATIONS_CONSUMER,
      topics: [ORDERS_EVENTS_TOPIC],
      eventTypes: ['OrderConfirmed'],
      maxAttempts: this.config.CONSUMER_MAX_ATTEMPTS,
    };
  }

  async handle(event: ParsedEvent, context: HandleContext): Promise<HandleOutcome> {
    if (event.type !== 'OrderConfirmed') return 'ignored';
    // `items` is optional within v1; an event without them carries nothing to rank.
    const items = event.payload.items ?? [];
    if (items.length === 0) return 'ignored';
    return (await this.store.recordOrder(context.headers.eventId, items)) ? 'processed' : 'duplicate';
  }
}

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
    this.items = new Counter({ name: 'recommendations_items_served_total', help: 'Recommendations returned over all answers', registers: [registry] });
  }

  @GrpcMethod('RecommendationsService', 'GetRecommendations')
  async handle(request: RecommendationsV1.GetRecommendationsRequest): Promise<RecommendationsV1.GetRecommendationsResponseInput> {
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
