import { credentials, status as GrpcStatus } from '@grpc/grpc-js';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Histogram, Registry } from 'prom-client';
import {
  INVENTORY_V1,
  InventoryV1,
  loadGrpcObject,
  NOTIFICATIONS_V1,
  NotificationsV1,
  ORDERS_V1,
  OrdersV1,
  RECOMMENDATIONS_V1,
  RecommendationsV1,
} from '@faultline/contracts';
import { METRICS_REGISTRY } from '@faultline/observability';
import { BreakerTimeoutError, CircuitOpenError } from '@faultline/resilience';
import { GATEWAY_CONFIG, GatewayConfig } from '../gateway.config';
import { Dependency, DependencyPolicies } from '../resilience/dependency-policies';
import { GrpcCallError, GrpcDetails, unaryCall } from './grpc-call';

/** Who is asking, propagated as gRPC metadata so the dependency's logs can be joined with the gateway's. */
export interface CallContext {
  traceparent: string;
  requestId?: string;
}

/** Reads are retried (bounded, under a budget); writes never are. */
type Idempotency = 'read' | 'write';

/**
 * The gateway's gRPC clients, created once at start and closed on shutdown, and the only way the gateway calls a
 * dependency: every call goes through the dependency's policy (@faultline/resilience: one deadline for the whole
 * call, propagated as the gRPC deadline; its circuit breaker; retries for reads only) and every attempt is measured
 * by method and status. A breaker that refuses becomes UNAVAILABLE and the breaker's own timeout DEADLINE_EXCEEDED,
 * so the one status mapping (grpc-status-to-http.ts) answers them: 503 + Retry-After, 504.
 */
@Injectable()
export class GrpcClients implements OnModuleDestroy {
  private readonly ordersClient: OrdersV1.Client;
  private readonly inventoryClient: InventoryV1.Client;
  private readonly notificationsClient: NotificationsV1.Client;
  private readonly recommendationsClient: RecommendationsV1.Client;
  private readonly duration: Histogram<'dependency' | 'method' | 'code'>;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(METRICS_REGISTRY) registry: Registry,
    private readonly policies: DependencyPolicies,
  ) {
    const insecure = credentials.createInsecure();
    this.ordersClient = new (loadGrpcObject(ORDERS_V1).faultline.orders.v1.OrdersService)(
      config.ORDERS_GRPC_ADDRESS,
      insecure,
    );
    this.inventoryClient = new (loadGrpcObject(INVENTORY_V1).faultline.inventory.v1.InventoryService)(
      config.INVENTORY_GRPC_ADDRESS,
      insecure,
    );
    this.notificationsClient = new (loadGrpcObject(NOTIFICATIONS_V1).faultline.notifications.v1.NotificationsService)(
      config.NOTIFICATIONS_GRPC_ADDRESS,
      insecure,
    );
    this.recommendationsClient = new (loadGrpcObject(
      RECOMMENDATIONS_V1,
    ).faultline.recommendations.v1.RecommendationsService)(config.RECOMMENDATIONS_GRPC_ADDRESS, insecure);
    this.duration = new Histogram({
      name: 'gateway_grpc_client_duration_seconds',
      help: 'Calls from the gateway to its gRPC dependencies, by dependency, method and gRPC status',
      labelNames: ['dependency', 'method', 'code'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
  }

  readonly orders = {
    placeOrder: (request: OrdersV1.PlaceOrderRequestInput, context: CallContext, details?: GrpcDetails) =>
      this.call<OrdersV1.PlaceOrderResponse>('orders', 'PlaceOrder', 'write', context, details, (m, o, cb) =>
        this.ordersClient.placeOrder(request, m, o, cb),
      ),
    getOrder: (request: OrdersV1.GetOrderRequestInput, context: CallContext, details?: GrpcDetails) =>
      this.call<OrdersV1.Order>('orders', 'GetOrder', 'read', context, details, (m, o, cb) =>
        this.ordersClient.getOrder(request, m, o, cb),
      ),
    listOrders: (request: OrdersV1.ListOrdersRequestInput, context: CallContext, details?: GrpcDetails) =>
      this.call<OrdersV1.ListOrdersResponse>('orders', 'ListOrders', 'read', context, details, (m, o, cb) =>
        this.ordersClient.listOrders(request, m, o, cb),
      ),
    /** Only for the naive recommendations fallback (RECS_FALLBACK=naive): a full aggregate over the orders database. */
    getTopSellers: (request: OrdersV1.GetTopSellersRequestInput, context: CallContext) =>
      this.call<OrdersV1.GetTopSellersResponse>('orders', 'GetTopSellers', 'read', context, undefined, (m, o, cb) =>
        this.ordersClient.getTopSellers(request, m, o, cb),
      ),
  };

  readonly inventory = {
    getProduct: (request: InventoryV1.GetProductRequestInput, context: CallContext, details?: GrpcDetails) =>
      this.call<InventoryV1.Product>('inventory', 'GetProduct', 'read', context, details, (m, o, cb) =>
        this.inventoryClient.getProduct(request, m, o, cb),
      ),
    listProducts: (request: InventoryV1.ListProductsRequestInput, context: CallContext, details?: GrpcDetails) =>
      this.call<InventoryV1.ListProductsResponse>('inventory', 'ListProducts', 'read', context, details, (m, o, cb) =>
        this.inventoryClient.listProducts(request, m, o, cb),
      ),
    setStock: (request: InventoryV1.SetStockRequestInput, context: CallContext, details?: GrpcDetails) =>
      this.call<InventoryV1.Product>('inventory', 'SetStock', 'write', context, details, (m, o, cb) =>
        this.inventoryClient.setStock(request, m, o, cb),
      ),
  };

  readonly notifications = {
    listNotifications: (
      request: NotificationsV1.ListNotificationsRequestInput,
      context: CallContext,
      details?: GrpcDetails,
    ) =>
      this.call<NotificationsV1.ListNotificationsResponse>(
        'notifications',
        'ListNotifications',
        'read',
        context,
        details,
        (m, o, cb) => this.notificationsClient.listNotifications(request, m, o, cb),
      ),
  };

  readonly recommendations = {
    getRecommendations: (request: RecommendationsV1.GetRecommendationsRequestInput, context: CallContext) =>
      this.call<RecommendationsV1.GetRecommendationsResponse>(
        'recommendations',
        'GetRecommendations',
        'read',
        context,
        undefined,
        (m, o, cb) => this.recommendationsClient.getRecommendations(request, m, o, cb),
      ),
  };

  private async call<T>(
    dependency: Dependency,
    method: string,
    idempotency: Idempotency,
    context: CallContext,
    details: GrpcDetails | undefined,
    invoke: Parameters<typeof unaryCall<T>>[0]['invoke'],
  ): Promise<T> {
    const metadata = {
      traceparent: context.traceparent,
      ...(context.requestId ? { 'x-request-id': context.requestId } : {}),
    };
    try {
      return await this.policies.for(dependency).call(
        (deadline) =>
          unaryCall<T>({
            service: dependency,
            method,
            deadline,
            invoke,
            details,
            metadata,
            observe: (code, seconds) => this.duration.observe({ dependency, method, code }, seconds),
          }),
        { idempotent: idempotency === 'read' },
      );
    } catch (error) {
      if (error instanceof CircuitOpenError) {
        throw new GrpcCallError(
          dependency,
          method,
          GrpcStatus.UNAVAILABLE,
          'circuit breaker open: not attempted',
          details ?? {},
        );
      }
      if (error instanceof BreakerTimeoutError) {
        throw new GrpcCallError(
          dependency,
          method,
          GrpcStatus.DEADLINE_EXCEEDED,
          `breaker timeout after ${error.timeoutMs} ms`,
          details ?? {},
        );
      }
      throw error;
    }
  }

  onModuleDestroy() {
    this.ordersClient.close();
    this.inventoryClient.close();
    this.notificationsClient.close();
    this.recommendationsClient.close();
  }
}
