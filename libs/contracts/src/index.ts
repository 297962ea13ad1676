// The only public surface of @faultline/contracts: gRPC service contracts (protos, loader options, generated types)
// and the versioned event payloads exchanged over Kafka.
export {
  GRPC_SERVICES,
  HEALTH_V1,
  INVENTORY_V1,
  NOTIFICATIONS_V1,
  ORDERS_V1,
  PROTO_LOADER_OPTIONS,
  PROTO_ROOT,
  RECOMMENDATIONS_V1,
  grpcTransportOptions,
  loadGrpcObject,
  loadPackageDefinition,
  type GrpcServiceContract,
} from './grpc-services';
export type { NestGrpcClient, NestGrpcController } from './grpc/nest-grpc.types';
export * as OrdersV1 from './grpc/orders-v1';
export * as InventoryV1 from './grpc/inventory-v1';
export * as RecommendationsV1 from './grpc/recommendations-v1';
export * as NotificationsV1 from './grpc/notifications-v1';
export * as HealthV1 from './grpc/health-v1';
export * from './events';
