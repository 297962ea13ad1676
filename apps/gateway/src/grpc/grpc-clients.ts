import { credentials } from '@grpc/grpc-js';
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
} from '@faultline/contracts';
import { METRICS_REGISTRY } from '@faultline/observability';
import { GATEWAY_CONFIG, GatewayConfig } from '../gateway.config';
import { GrpcDetails, unaryCall } from './grpc-call';

/** Who is asking, propagated as gRPC metadata so the dependency's logs can be joined with the gateway's. */
export interface CallContext {
  traceparent: string;
  requestId?: string;
}

type Dependency = 'orders' | 'inventory' | 'notifications';

/**
 * The gateway's gRPC clients, created once at start and closed on shutdown, and the only way the gateway calls a
 * dependency: every call gets the dependency's deadline from config and is measured by method and status.
 */
@Injectable()
export class GrpcClients implements OnModuleDestroy {
  private readonly ordersClient: OrdersV1.Client;
  private readonly inventoryClient: InventoryV1.Client;
  private readonly notificationsClient: NotificationsV1.Client;
  private readonly duration: Histogram<'dependency' | 'method' | 'code'>;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    const insecure = credentials.createInsecure();
    this.ordersClient = new (loadGrpcObject(ORDERS_V1).faultline.orders.v1.OrdersService)(config.ORDERS_GRPC_ADDRESS, insecure);
    this.inventoryClient = new (loadGrpcObject(INVENTORY_V1).faultline.inventory.v1.InventoryService)(config.INVENTORY_GRPC_ADDRESS, insecure);
    this.notificationsClient = new (loadGrpcObject(NOTIFICATIONS_V1).faultline.notifications.v1.NotificationsService)(
      config.NOTIFICATIONS_GRPC_ADDRESS,
      insecure,
    );
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
      this.call<OrdersV1.PlaceOrderResponse>('orders', 'PlaceOrder', context, details, (m, o, cb) => this.ordersClient.placeOrder(request, m, o, cb)),
    getOrder: (request: OrdersV1.GetOrderRequestInput, context: CallContext, details?: GrpcDetails) =>
      this.call<OrdersV1.Order>('orders', 'GetOrder', context, details, (m, o, cb) => this.ordersClient.getOrder(request, m, o, cb)),
    listOrders: (request: OrdersV1.ListOrdersRequestInput, context: CallContext, details?: GrpcDetails) =>
      this.call<OrdersV1.ListOrdersResponse>('orders', 'ListOrders', context, details, (m, o, cb) => this.ordersClient.listOrders(request, m, o, cb)),
  };

  readonly inventory = {
    getProduct: (request: InventoryV1.GetProductRequestInput, context: CallContext, details?: GrpcDetails) =>
      this.call<InventoryV1.Product>('inventory', 'GetProduct', context, details, (m, o, cb) => this.inventoryClient.getProduct(request, m, o, cb)),
    listProducts: (request: InventoryV1.ListProductsRequestInput, context: CallContext, details?: GrpcDetails) =>
      this.call<InventoryV1.ListProductsResponse>('inventory', 'ListProducts', context, details, (m, o, cb) =>
        this.inventoryClient.listProducts(request, m, o, cb),
      ),
    setStock: (request: InventoryV1.SetStockRequestInput, context: CallContext, details?: GrpcDetails) =>
      this.call<InventoryV1.Product>('inventory', 'SetStock', context, details, (m, o, cb) => this.inventoryClient.setStock(request, m, o, cb)),
  };

  readonly notifications = {
    listNotifications: (request: NotificationsV1.ListNotificationsRequestInput, context: CallContext, details?: GrpcDetails) =>
      this.call<NotificationsV1.ListNotificationsResponse>('notifications', 'ListNotifications', context, details, (m, o, cb) =>
        this.notificationsClient.listNotifications(request, m, o, cb),
      ),
  };

  private deadlineMs(dependency: Dependency): number {
    switch (dependency) {
      case 'orders':
        return this.config.ORDERS_GRPC_DEADLINE_MS;
      case 'inventory':
        return this.config.INVENTORY_GRPC_DEADLINE_MS;
      case 'notifications':
        return this.config.NOTIFICATIONS_GRPC_DEADLINE_MS;
    }
  }

  private call<T>(
    dependency: Dependency,
    method: string,
    context: CallContext,
    details: GrpcDetails | undefined,
    invoke: Parameters<typeof unaryCall<T>>[0]['invoke'],
  ): Promise<T> {
    return unaryCall<T>({
      service: dependency,
      method,
      deadlineMs: this.deadlineMs(dependency),
      invoke,
      details,
      metadata: { traceparent: context.traceparent, ...(context.requestId ? { 'x-request-id': context.requestId } : {}) },
      observe: (code, seconds) => this.duration.observe({ dependency, method, code }, seconds),
    });
  }

  onModuleDestroy() {
    this.ordersClient.close();
    this.inventoryClient.close();
    this.notificationsClient.close();
  }
}

