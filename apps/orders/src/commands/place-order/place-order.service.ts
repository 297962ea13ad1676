import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { createEvent, EventEnvelope } from '@faultline/contracts';
import { ATTR_ORDER_ID, currentTraceparent, setSpanAttributes, spanEvent } from '@faultline/tracing';
import { DATA_SOURCE, inTransaction } from '@faultline/database';
import { EventProducer } from '@faultline/messaging';
import { appendToOutbox } from '@faultline/outbox';
import { checkPlaceOrder, idempotencyKeyInFlight, idempotencyKeyReused, Order, OrderItem } from '../../domain/order';
import type { OrdersConfig } from '../../orders.config';
import { DUAL_WRITE_PRODUCER, ORDERS_CONFIG } from '../../orders.tokens';
import { IdempotencyRepository } from '../../database/idempotency.repository';
import { OrderRepository } from '../../database/order.repository';
import { PlaceOrderMetrics } from './place-order.metrics';

export interface PlaceOrderCommand {
  customerId: string;
  customerName: string;
  idempotencyKey: string;
  requestHash: string;
  items: OrderItem[];
}

export interface PlaceOrderResult {
  order: Order;
  replayed: boolean;
  responseStatus: number;
}

/** The status the gateway answers a new order with; stored with the idempotency record for replays. */
const CREATED = 201;

@Injectable()
export class PlaceOrderService implements OnApplicationShutdown {
  private readonly logger = new Logger(PlaceOrderService.name);

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
    @Inject(DUAL_WRITE_PRODUCER) private readonly producer: EventProducer | null,
    private readonly metrics: PlaceOrderMetrics,
    private readonly orders: OrderRepository,
    private readonly idempotency: IdempotencyRepository,
  ) {}

  /**
   * Places an order: the order, its items, the idempotency record and (with the outbox) the OrderPlaced event are
   * written in ONE local transaction, so either all of them exist or none does. Concurrent requests with the same
   * key are serialised by a transaction-scoped advisory lock: the second one is told "in flight" at once instead
   * of waiting, and once the first has committed a retry replays its stored answer.
   */
  async place(command: PlaceOrderCommand): Promise<PlaceOrderResult> {
    checkPlaceOrder(command);
    let published: EventEnvelope | undefined;
    const result = await this.countIdempotency(
      inTransaction(this.dataSource, async (tx) => {
        if (!(await this.idempotency.tryLock(tx, command.customerId, command.idempotencyKey)))
          throw idempotencyKeyInFlight();

        const stored = await this.idempotency.find(tx, command.customerId, command.idempotencyKey);
        if (stored) {
          if (stored.requestHash !== command.requestHash) throw idempotencyKeyReused();
          spanEvent('idempotency.replayed', {
            [ATTR_ORDER_ID]: stored.order.id,
            'idempotency.response_status': stored.responseStatus,
          });
          setSpanAttributes({ [ATTR_ORDER_ID]: stored.order.id });
          return { order: stored.order, replayed: true, responseStatus: stored.responseStatus };
        }

        await this.orders.ensureCustomer(tx, command.customerId, command.customerName || command.customerId);
        const now = new Date();
        const order: Order = {
          id: randomUUID(),
          customerId: command.customerId,
          status: 'PENDING',
          items: command.items.map(({ sku, quantity }) => ({ sku, quantity })),
          createdAt: now.toISOString(),
        };
        await this.orders.insert(tx, order, now);
        const event = createEvent(
          'OrderPlaced',
          { orderId: order.id, customerId: order.customerId, items: order.items, placedAt: order.createdAt },
          {
            occurredAt: now,
            // The span writing the row (this gRPC call's): the relay continues the trace from here
            // (docs/decisions/trace-through-the-outbox.md).
            traceparent: currentTraceparent(),
          },
        );
        setSpanAttributes({ [ATTR_ORDER_ID]: order.id });
        if (this.config.ORDERS_PUBLISH === 'outbox') await appendToOutbox(tx, [event]);
        else published = event;
        await this.idempotency.save(
          tx,
          command.customerId,
          command.idempotencyKey,
          { requestHash: command.requestHash, responseStatus: CREATED, order },
          this.config.IDEMPOTENCY_KEY_TTL_HOURS,
        );
        return { order, replayed: false, responseStatus: CREATED };
      }),
    );

    if (published) await this.publishAfterCommit(published);
    // One line per order, joined to its trace by the logger (traceId/spanId of the gRPC span).
    this.logger.log(
      result.replayed ? `order ${result.order.id} replayed for its idempotency key` : `order ${result.order.id} placed`,
    );
    return result;
  }

  private async countIdempotency(placing: Promise<PlaceOrderResult>): Promise<PlaceOrderResult> {
    try {
      const result = await placing;
      this.metrics.requests.inc({ outcome: result.replayed ? 'replayed' : 'new' });
      return result;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'FAILED_PRECONDITION') this.metrics.requests.inc({ outcome: 'conflict' });
      else if (code === 'ABORTED') this.metrics.requests.inc({ outcome: 'in_flight' });
      throw error;
    }
  }

  /**
   * The naive variant (ORDERS_PUBLISH=dual-write): commit, THEN publish. A crash between the two loses the event for
   * good: the order stays PENDING forever. ORDERS_DUAL_WRITE_DELAY_MS widens that window so the lab can hit it.
   */
  private async publishAfterCommit(event: EventEnvelope): Promise<void> {
    if (this.config.ORDERS_DUAL_WRITE_DELAY_MS > 0)
      await new Promise((r) => setTimeout(r, this.config.ORDERS_DUAL_WRITE_DELAY_MS));
    try {
      await this.producer?.publish([event]);
    } catch (error) {
      // The order is committed and the client will be told it exists: this event is lost. That is the lesson.
      this.logger.error(
        `dual write: order ${event.key} committed but its ${event.metadata.type} event was not published: ${(error as Error).message}`,
      );
    }
  }

  async onApplicationShutdown() {
    await this.producer?.disconnect();
  }
}
