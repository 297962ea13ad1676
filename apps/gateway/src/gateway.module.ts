import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ServiceKit } from '@faultline/bootstrap';
import { INVENTORY_V1, NOTIFICATIONS_V1, ORDERS_V1 } from '@faultline/contracts';
import { grpcHealthProbe, ObservabilityModule, redisProbe } from '@faultline/observability';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { tokenVerifierProvider } from './auth/token-verifier.provider';
import { ProblemDetailsFilter } from './errors/problem-details.filter';
import { GATEWAY_CONFIG, GatewayConfig } from './gateway.config';
import { GrpcClients } from './grpc/grpc-clients';
import { RequestBodyLimitsMiddleware } from './http/request-body-limits.middleware';
import { TraceContextMiddleware } from './http/trace-context.middleware';
import { ListNotificationsHttpController } from './notifications/list-notifications/list-notifications.http.controller';
import { DocsHttpController } from './openapi/docs.http.controller';
import { GetOrderHttpController } from './orders/get-order/get-order.http.controller';
import { ListOrdersHttpController } from './orders/list-orders/list-orders.http.controller';
import { PlaceOrderHttpController } from './orders/place-order/place-order.http.controller';
import { GetProductHttpController } from './products/get-product/get-product.http.controller';
import { ListProductsHttpController } from './products/list-products/list-products.http.controller';
import { SetStockHttpController } from './products/set-stock/set-stock.http.controller';

const httpControllers = [
  PlaceOrderHttpController,
  GetOrderHttpController,
  ListOrdersHttpController,
  ListProductsHttpController,
  GetProductHttpController,
  SetStockHttpController,
  ListNotificationsHttpController,
  DocsHttpController,
];

@Module({})
export class GatewayModule implements NestModule {
  static forRoot(config: GatewayConfig, kit: ServiceKit): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ObservabilityModule.forRoot({
          ...kit,
          // Recommendations is left out on purpose: the gateway answers from a static fallback without it.
          probes: [
            redisProbe(config.REDIS_URL),
            grpcHealthProbe('orders', config.ORDERS_GRPC_ADDRESS, ORDERS_V1.fullName),
            grpcHealthProbe('inventory', config.INVENTORY_GRPC_ADDRESS, INVENTORY_V1.fullName),
            grpcHealthProbe('notifications', config.NOTIFICATIONS_GRPC_ADDRESS, NOTIFICATIONS_V1.fullName),
          ],
        }),
      ],
      controllers: httpControllers,
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        tokenVerifierProvider,
        GrpcClients,
        TraceContextMiddleware,
        RequestBodyLimitsMiddleware,
        { provide: APP_GUARD, useClass: JwtAuthGuard },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer) {
    consumer.apply(TraceContextMiddleware, RequestBodyLimitsMiddleware).forRoutes('*path');
  }
}
