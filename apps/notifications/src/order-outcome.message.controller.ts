import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { ParsedEvent } from '@faultline/contracts';
import { ORDERS_EVENTS_TOPIC } from '@faultline/contracts';
import { DATA_SOURCE, inTransaction, queryRows } from '@faultline/database';
import {
  ConsumerLifecycle,
  ConsumerSpec,
  HandleContext,
  HandleOutcome,
  recordInInbox,
  saveAppliedMarks,
} from '@faultline/messaging';
import type { NotificationsConfig } from './notifications.config';
import { NOTIFICATIONS_CONFIG, NOTIFICATIONS_CONSUMER } from './notifications.tokens';

/**
 * Sends exactly one notification per order outcome: the inbox row, the notification and its delivery (the send,
 * logged in `deliveries`) are one transaction, so a redelivered event finds its id in the inbox and sends nothing;
 * `order_id` is UNIQUE, so a second outcome for the same order is not sent either. With NOTIFICATIONS_INBOX=off
 * (the naive twin) a redelivered event is sent again: the duplicate the lab's delivery count shows.
 */
@Injectable()
export class OrderOutcomeMessageController extends ConsumerLifecycle {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(NOTIFICATIONS_CONFIG) private readonly config: NotificationsConfig,
  ) {
    super();
  }

  protected consumerSpec(): ConsumerSpec {
    return {
      brokers: this.config.KAFKA_BROKERS,
      clientId: 'notifications',
      groupId: NOTIFICATIONS_CONSUMER,
      topics: [ORDERS_EVENTS_TOPIC],
      eventTypes: ['OrderConfirmed', 'OrderRejected'],
      maxAttempts: this.config.CONSUMER_MAX_ATTEMPTS,
      transientRetryMs: this.config.CONSUMER_TRANSIENT_RETRY_MS,
      appliedUntil: { save: (marks) => saveAppliedMarks(this.dataSource, NOTIFICATIONS_CONSUMER, marks) },
    };
  }

  async handle(event: ParsedEvent, context: HandleContext): Promise<HandleOutcome> {
    if (event.type !== 'OrderConfirmed' && event.type !== 'OrderRejected') return 'ignored';
    const kind = event.type === 'OrderConfirmed' ? 'ORDER_CONFIRMED' : 'ORDER_REJECTED';
    const deduplicate = this.config.NOTIFICATIONS_INBOX === 'on';
    return inTransaction(this.dataSource, async (sql) => {
      if (deduplicate && !(await recordInInbox(sql, NOTIFICATIONS_CONSUMER, context.headers.eventId)))
        return 'duplicate';
      const inserted = await queryRows(
        sql,
        'INSERT INTO notifications (order_id, customer_id, kind) VALUES ($1, $2, $3) ON CONFLICT (order_id) DO NOTHING RETURNING id',
        [event.payload.orderId, event.payload.customerId, kind],
      );
      if (inserted.length === 0 && deduplicate) {
        this.logger.warn(
          { orderId: event.payload.orderId, type: event.type },
          'order already has its notification; a second outcome event was ignored',
        );
        return 'ignored';
      }
      await sql.query('INSERT INTO deliveries (order_id, event_id, kind) VALUES ($1, $2, $3)', [
        event.payload.orderId,
        context.headers.eventId,
        kind,
      ]);
      return 'processed';
    });
  }
}
