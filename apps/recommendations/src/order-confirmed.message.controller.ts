import { Inject, Injectable } from '@nestjs/common';
import type { ParsedEvent } from '@faultline/contracts';
import { ORDERS_EVENTS_TOPIC } from '@faultline/contracts';
import { ConsumerLifecycle, ConsumerSpec, HandleContext, HandleOutcome } from '@faultline/messaging';
import { PopularityStore } from './popularity.store';
import { RECOMMENDATIONS_CONFIG, type RecommendationsConfig } from './recommendations.config';

/** Its consumer group. */
export const RECOMMENDATIONS_CONSUMER = 'recommendations';

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
