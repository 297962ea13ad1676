import { Inject, Injectable } from '@nestjs/common';
import { ORDERS_EVENTS_TOPIC, ParsedEvent } from '@faultline/contracts';
import { ConsumerLifecycle, ConsumerSpec, HandleContext, HandleOutcome } from '@faultline/messaging';
import { currentTraceparent } from '@faultline/tracing';
import type { InventoryConfig } from '../../inventory.config';
import { INVENTORY_CONFIG } from '../../inventory.tokens';
import { RESERVATIONS_CONSUMER, ReserveStockService } from './reserve-stock.service';

/** Consumes OrderPlaced and answers each order once with InventoryReserved or InventoryRejected. */
@Injectable()
export class OrderPlacedMessageController extends ConsumerLifecycle {
  constructor(
    private readonly reserveStock: ReserveStockService,
    @Inject(INVENTORY_CONFIG) private readonly config: InventoryConfig,
  ) {
    super();
  }

  protected consumerSpec(): ConsumerSpec {
    return {
      brokers: this.config.KAFKA_BROKERS,
      clientId: 'inventory',
      groupId: RESERVATIONS_CONSUMER,
      topics: [ORDERS_EVENTS_TOPIC],
      eventTypes: ['OrderPlaced'],
      maxAttempts: this.config.CONSUMER_MAX_ATTEMPTS,
      partitionsConsumedConcurrently: this.config.CONSUMER_CONCURRENCY,
    };
  }

  async handle(event: ParsedEvent, context: HandleContext): Promise<HandleOutcome> {
    if (event.type !== 'OrderPlaced') return 'ignored';
    const outcome = await this.reserveStock.reserve(
      context.headers.eventId,
      event.payload,
      currentTraceparent() ?? context.headers.traceparent,
    );
    if (outcome === 'duplicate') return 'duplicate';
    if (outcome === 'already-answered') return 'ignored';
    return 'processed';
  }
}
