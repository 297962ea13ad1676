import { DynamicModule, Module } from '@nestjs/common';
import { GrpcHealthController, ServiceKit } from '@faultline/bootstrap';
import { ORDERS_V1 } from '@faultline/contracts';
import { DatabaseModule } from '@faultline/database';
import { createEventProducer, createKafka, kafkaProbe } from '@faultline/messaging';
import { ObservabilityModule, postgresProbe } from '@faultline/observability';
import { PlaceOrderGrpcController } from './commands/place-order/place-order.grpc.controller';
import { PlaceOrderMetrics } from './commands/place-order/place-order.metrics';
import { PlaceOrderService } from './commands/place-order/place-order.service';
import { IdempotencyRepository } from './database/idempotency.repository';
import { ORDER_COLUMNS } from './database/order-columns.port';
import { OrderRepository } from './database/order.repository';
import { ordersMigrations } from './database/orders.migrations';
import { ReconciliationJob } from './maintenance/reconciliation.job';
import { RetentionJob } from './maintenance/retention.job';
import { SchemaReleaseService } from './online-migration/schema-release.service';
import { OrdersConfig } from './orders.config';
import { DUAL_WRITE_PRODUCER, ORDERS_CONFIG } from './orders.tokens';
import { GetOrderGrpcController } from './queries/get-order/get-order.grpc.controller';
import { GetOrderQuery } from './queries/get-order/get-order.query';
import { ListOrdersGrpcController } from './queries/list-orders/list-orders.grpc.controller';
import { ListOrdersQuery } from './queries/list-orders/list-orders.query';
import { OrdersByStatusMetrics } from './queries/orders-by-status/orders-by-status.metrics';
import { TopSellersGrpcController } from './queries/top-sellers/top-sellers.grpc.controller';
import { TopSellersQuery } from './queries/top-sellers/top-sellers.query';
import { InventoryOutcomeMessageController } from './saga/inventory-outcome.message.controller';

const grpcControllers = [
  GrpcHealthController([ORDERS_V1.fullName]),
  PlaceOrderGrpcController,
  GetOrderGrpcController,
  ListOrdersGrpcController,
  TopSellersGrpcController,
];
const commandHandlers = [PlaceOrderService];
const metrics = [PlaceOrderMetrics, OrdersByStatusMetrics];
const queryHandlers = [GetOrderQuery, ListOrdersQuery, TopSellersQuery];
const messageControllers = [InventoryOutcomeMessageController];
const jobs = [RetentionJob, ReconciliationJob];
const repositories = [OrderRepository, IdempotencyRepository];
const onlineMigration = [SchemaReleaseService, { provide: ORDER_COLUMNS, useExisting: SchemaReleaseService }];

@Module({})
export class OrdersModule {
  static forRoot(config: OrdersConfig, kit: ServiceKit): DynamicModule {
    return {
      module: OrdersModule,
      imports: [
        ObservabilityModule.forRoot({
          ...kit,
          probes: [
            postgresProbe(config.DATABASE_URL),
            kafkaProbe({ clientId: 'orders', brokers: config.KAFKA_BROKERS }),
          ],
        }),
        DatabaseModule.forRoot({
          url: config.DATABASE_URL,
          migrations: ordersMigrations,
          poolSize: config.DATABASE_POOL_SIZE,
          applicationName: 'orders',
          watchSlots: true,
        }),
      ],
      controllers: [...grpcControllers],
      providers: [
        { provide: ORDERS_CONFIG, useValue: config },
        {
          provide: DUAL_WRITE_PRODUCER,
          useFactory: async () => {
            if (config.ORDERS_PUBLISH !== 'dual-write') return null;
            const producer = createEventProducer(
              createKafka({ clientId: 'orders-dual-write', brokers: config.KAFKA_BROKERS }),
            );
            await producer.connect();
            return producer;
          },
        },
        ...repositories,
        ...commandHandlers,
        ...queryHandlers,
        ...messageControllers,
        ...jobs,
        ...metrics,
        ...onlineMigration,
      ],
    };
  }
}
