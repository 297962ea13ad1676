import { Controller, Inject, Injectable } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { DataSource } from 'typeorm';
import type { NotificationsV1, ParsedEvent } from '@faultline/contracts';
import { ORDERS_EVENTS_TOPIC } from '@faultline/contracts';
import { DATA_SOURCE, inTransaction, queryRows } from '@faultline/database';
import { ConsumerLifecycle, ConsumerSpec, HandleContext, HandleOutcome, readAppliedUntil, recordInInbox, saveAppliedMarks } from '@faultline/messaging';
import type { NotificationsConfig } from './notifications.config';

export const NOTIFICATIONS_CONFIG = Symbol('NOTIFICATIONS_CONFIG');
export const NOTIFICATIONS_CONSUMER = 'notifications';
const MAX_LIST = 100;

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
      if (deduplicate && !(await recordInInbox(sql, NOTIFICATIONS_CONSUMER, context.headers.eventId))) return 'duplicate';
      const inserted = await queryRows(sql, 'INSERT INTO notifications (order_id, customer_id, kind) VALUES ($1, $2, $3) ON CONFLICT (order_id) DO NOTHING RETURNING id', [
        event.payload.orderId,
        event.payload.customerId,
        kind,
      ]);
      if (inserted.length === 0 && deduplicate) {
        this.logger.warn({ orderId: event.payload.orderId, type: event.type }, 'order already has its notification; a second outcome event was ignored');
        return 'ignored';
      }
      await sql.query('INSERT INTO deliveries (order_id, event_id, kind) VALUES ($1, $2, $3)', [event.payload.orderId, context.headers.eventId, kind]);
      return 'processed';
    });
  }
}

@Controller()
export class ListNotificationsGrpcController {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(NOTIFICATIONS_CONFIG) private readonly config: NotificationsConfig,
  ) {}

  @GrpcMethod('NotificationsService', 'ListNotifications')
  async handle(request: NotificationsV1.ListNotificationsRequest): Promise<NotificationsV1.ListNotificationsResponseInput> {
    const limit = Math.min(Math.max(request.limit || 50, 1), MAX_LIST);
    // Read before the rows: the feed then holds at least everything up to it.
    const asOf = this.config.NOTIFICATIONS_AS_OF === 'response-time' ? new Date() : await readAppliedUntil(this.dataSource, NOTIFICATIONS_CONSUMER, ORDERS_EVENTS_TOPIC);
    const rows: { id: string; order_id: string; kind: 'ORDER_CONFIRMED' | 'ORDER_REJECTED'; created_at: Date }[] = await this.dataSource.query(
      'SELECT id, order_id, kind, created_at FROM notifications WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2',
      [request.customerId, limit],
    );
    return { items: rows.map((r) => ({ id: r.id, orderId: r.order_id, kind: r.kind, createdAt: r.created_at.toISOString() })), asOf: asOf?.toISOString() ?? '' };
  }
}
