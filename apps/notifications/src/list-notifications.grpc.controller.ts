import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { DataSource } from 'typeorm';
import type { NotificationsV1 } from '@faultline/contracts';
import { ORDERS_EVENTS_TOPIC } from '@faultline/contracts';
import { DATA_SOURCE } from '@faultline/database';
import { readAppliedUntil } from '@faultline/messaging';
import type { NotificationsConfig } from './notifications.config';
import { NOTIFICATIONS_CONFIG, NOTIFICATIONS_CONSUMER } from './notifications.tokens';

const MAX_LIST = 100;

/** A customer's notifications, newest first, with the as-of time the feed is complete up to. */
@Controller()
export class ListNotificationsGrpcController {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(NOTIFICATIONS_CONFIG) private readonly config: NotificationsConfig,
  ) {}

  @GrpcMethod('NotificationsService', 'ListNotifications')
  async handle(
    request: NotificationsV1.ListNotificationsRequest,
  ): Promise<NotificationsV1.ListNotificationsResponseInput> {
    const limit = Math.min(Math.max(request.limit || 50, 1), MAX_LIST);
    // Read before the rows: the feed then holds at least everything up to it.
    const asOf =
      this.config.NOTIFICATIONS_AS_OF === 'response-time'
        ? new Date()
        : await readAppliedUntil(this.dataSource, NOTIFICATIONS_CONSUMER, ORDERS_EVENTS_TOPIC);
    const rows: { id: string; order_id: string; kind: 'ORDER_CONFIRMED' | 'ORDER_REJECTED'; created_at: Date }[] =
      await this.dataSource.query(
        'SELECT id, order_id, kind, created_at FROM notifications WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2',
        [request.customerId, limit],
      );
    return {
      items: rows.map((r) => ({ id: r.id, orderId: r.order_id, kind: r.kind, createdAt: r.created_at.toISOString() })),
      asOf: asOf?.toISOString() ?? '',
    };
  }
}
