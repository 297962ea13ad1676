import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { createEvent, INVENTORY_EVENTS_TOPIC, ParsedEvent } from '@faultline/contracts';
import { DATA_SOURCE, inTransaction } from '@faultline/database';
import { ConsumerLifecycle, ConsumerSpec, HandleContext, HandleOutcome, recordInInbox } from '@faultline/messaging';
import { appendToOutbox } from '@faultline/outbox';
import { currentTraceparent } from '@faultline/tracing';
import { OrderRepository } from '../database/order.repository';
import type { OrdersConfig } from '../orders.config';
import { ORDERS_CONFIG } from '../orders.tokens';

/** Retried by the consumer (bounded, with backoff); after the last attempt the answer goes to the DLQ. */
export class OrderNotVisibleYetError extends Error {
  constructor(orderId: string) {
    super(`order ${orderId} is not visible (yet): retrying`);
    this.name = 'OrderNotVisibleYetError';
  }
}

/** The saga step of orders: its consumer group and its name in the inbox. */
export const ORDERS_SAGA_CONSUMER = 'orders-saga';

/**
 * Moves an order to its final state when inventory answers: InventoryReserved → CONFIRMED, InventoryRejected →
 * REJECTED, each with its OrderConfirmed / OrderRejected event in the outbox, in ONE transaction with the inbox row,
 * so a redelivered answer changes nothing. Only a PENDING order moves: a late or repeated answer is ignored.
 */
@Injectable()
export class InventoryOutcomeMessageController extends ConsumerLifecycle {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
    private readonly orders: OrderRepository,
  ) {
    super();
  }

  protected consumerSpec(): ConsumerSpec {
    return {
      brokers: this.config.KAFKA_BROKERS,
      clientId: 'orders',
      groupId: ORDERS_SAGA_CONSUMER,
      topics: [INVENTORY_EVENTS_TOPIC],
      eventTypes: ['InventoryReserved', 'InventoryRejected'],
      maxAttempts: this.config.CONSUMER_MAX_ATTEMPTS,
    };
  }

  async handle(event: ParsedEvent, context: HandleContext): Promise<HandleOutcome> {
    if (event.type !== 'InventoryReserved' && event.type !== 'InventoryRejected') return 'ignored';
    return inTransaction(this.dataSource, async (tx) => {
      if (!(await recordInInbox(tx, ORDERS_SAGA_CONSUMER, context.headers.eventId))) return 'duplicate';
      const confirmed = event.type === 'InventoryReserved';
      const reason = event.type === 'InventoryRejected' ? event.payload.reason : null;
      const order = await this.orders.finalize(tx, event.payload.orderId, confirmed ? 'CONFIRMED' : 'REJECTED', reason);
      if (!order) {
        // Logical decoding can hand out a transaction's commit a moment before that transaction is visible to other
        // sessions (its WAL is flushed before it leaves the proc array), and a fast pipeline can bring inventory's
        // answer back inside that moment (seen under load: the answer was dropped, the order stayed PENDING). So an
        // order we cannot see yet is a retriable failure (this transaction, inbox row included, rolls back); only
        // an order that exists and is already final makes the answer a harmless repeat.
        // The same moment can fall between the UPDATE and this SELECT (each statement takes a new snapshot): an order
        // that is PENDING now was invisible to the UPDATE, so it is retried too, never dropped.
        const status = await this.orders.statusOf(tx, event.payload.orderId);
        if (!status || status === 'PENDING') throw new OrderNotVisibleYetError(event.payload.orderId);
        this.logger.warn(
          { orderId: event.payload.orderId, type: event.type, status },
          'inventory answer for an order that is already final; ignored',
        );
        return 'ignored';
      }
      const at = new Date().toISOString();
      const items = confirmed ? await this.orders.itemsOf(tx, event.payload.orderId) : [];
      // The consumer span handling this message writes the row; without tracing, pass the received context on.
      const traceparent = currentTraceparent() ?? context.headers.traceparent;
      const outcome = confirmed
        ? createEvent(
            'OrderConfirmed',
            { orderId: event.payload.orderId, customerId: order.customerId, items, confirmedAt: at },
            { traceparent },
          )
        : createEvent(
            'OrderRejected',
            {
              orderId: event.payload.orderId,
              customerId: order.customerId,
              reason: reason ?? 'REJECTED',
              rejectedAt: at,
            },
            { traceparent },
          );
      await appendToOutbox(tx, [outcome]);
      return 'processed';
    });
  }
}
