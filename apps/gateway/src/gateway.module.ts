import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ServiceKit } from '@faultline/bootstrap';
import { INVENTORY_V1, NOTIFICATIONS_V1, ORDERS_V1 } from '@faultline/contracts';
import { grpcHealthProbe, ObservabilityModule, redisProbe } from '@faultline/observability';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { Revocations, tokenVerifierProvider } from './auth/token-verifier.provider';
import { ProblemDetailsFilter } from './errors/problem-details.filter';
import { GATEWAY_CONFIG, GatewayConfig } from './gateway.config';
import { GrpcClients } from './grpc/grpc-clients';
import { RequestBodyLimitsMiddleware } from './http/request-body-limits.middleware';
import { TraceContextMiddleware } from './http/trace-context.middleware';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { LoadSheddingMiddleware, RouteLoadShedder } from './resilience/load-shedding.middleware';
import { DependencyPolicies } from './resilience/dependency-policies';
import { GetRecommendationsHttpController } from './recommendations/get-recommendations/get-recommendations.http.controller';
import { RecommendationsFallback } from './recommendations/recommendations-fallback';
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
  GetRecommendationsHttpController,
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
        // After authentication (it keys buckets by user), so 401/403 answers spend no token.
        RateLimitModule.forRoot(config),
      ],
      controllers: httpControllers,
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        Revocations,
        tokenVerifierProvider,
        DependencyPolicies,
        GrpcClients,
        RecommendationsFallback,
        RouteLoadShedder,
        TraceContextMiddleware,
        RequestBodyLimitsMiddleware,
        { provide: APP_GUARD, useClass: JwtAuthGuard },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer) {
    // Shedding comes right after the trace context (a shed 503 still carries its traceId) and before any other work.
    consumer.apply(TraceContextMiddleware, LoadSheddingMiddleware, RequestBodyLimitsMiddleware).forRoutes('*path');
  }
}
