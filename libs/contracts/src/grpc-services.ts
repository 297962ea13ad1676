// Where the protos are and how they are loaded. Every gRPC server (Nest's transport) and client (Nest or plain
// grpc-js) in Faultline loads protos through these values, so that the objects handlers receive and return have the
// shapes the generated types describe.
//
// This file sits directly in src/ on purpose: `../proto` resolves both in the source tree (libs/contracts/proto) and in
// the build output (dist/libs/contracts/proto, copied by tools/build/build.mjs).
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as HealthGrpcObject } from './generated/health';
import type { ProtoGrpcType as InventoryGrpcObject } from './generated/inventory';
import type { ProtoGrpcType as NotificationsGrpcObject } from './generated/notifications';
import type { ProtoGrpcType as OrdersGrpcObject } from './generated/orders';
import type { ProtoGrpcType as RecommendationsGrpcObject } from './generated/recommendations';
import protoLoaderOptionsJson from './proto-loader-options.json';

/** The include directory of every proto (absolute). Proto imports are written relative to it. */
export const PROTO_ROOT = join(__dirname, '..', 'proto');

// proto-loader takes constructors (String, Number) where JSON can only name them.
const CONSTRUCTOR_OPTIONS = new Set(['longs', 'enums', 'bytes']);
const CONSTRUCTORS: Record<string, StringConstructor | NumberConstructor | ArrayConstructor> = {
  String,
  Number,
  Array,
};

function toLoaderOptions(json: Record<string, unknown>): protoLoader.Options {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    if (!CONSTRUCTOR_OPTIONS.has(key)) {
      options[key] = value;
      continue;
    }
    const constructor = typeof value === 'string' ? CONSTRUCTORS[value] : undefined;
    if (!constructor)
      throw new Error(`proto-loader-options.json: "${key}" must be one of ${Object.keys(CONSTRUCTORS).join(', ')}`);
    options[key] = constructor;
  }
  return options as protoLoader.Options;
}

/**
 * The one set of @grpc/proto-loader options in Faultline: pass it as Nest's gRPC transport `loader` option and to
 * every `protoLoader.loadSync`. It is read from src/proto-loader-options.json, the file tools/generate.mjs turns into
 * generator flags, so runtime shapes and generated types cannot drift apart:
 *   - keepCase false: fields are lowerCamelCase in TypeScript (customer_id -> customerId), as in the REST API;
 *   - longs String: a 64-bit integer arrives as a decimal string, never a lossy number (our protos use int32 anyway);
 *   - enums String: enum values are their names ('PENDING'), readable in logs and mapped 1:1 to REST;
 *   - defaults true: every field of a received message is present (proto3 has no "absent" for scalars);
 *   - oneofs true: a oneof has a virtual field naming the member that is set.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  ...toLoaderOptions(protoLoaderOptionsJson),
  includeDirs: Object.freeze([PROTO_ROOT]) as string[],
});

declare const grpcObjectType: unique symbol;

/** How to find and load one versioned gRPC service. `TGrpcObject` is the type of the loaded package tree. */
export interface GrpcServiceContract<TGrpcObject = unknown> {
  /** The proto package, e.g. 'faultline.orders.v1' (Nest's `package` option). */
  readonly package: string;
  /** The service name inside the package, e.g. 'OrdersService' (Nest's `@GrpcMethod(service)` and `getService`). */
  readonly service: string;
  /** `<package>.<service>`: the name clients, health checks and proxies see on the wire. */
  readonly fullName: string;
  /** Absolute path of the .proto file (Nest's `protoPath` option). */
  readonly protoPath: string;
  /** Type-only marker carrying TGrpcObject; never set at runtime. */
  readonly [grpcObjectType]?: TGrpcObject;
}

function contract<TGrpcObject>(pkg: string, service: string, protoFile: string): GrpcServiceContract<TGrpcObject> {
  return Object.freeze({
    package: pkg,
    service,
    fullName: `${pkg}.${service}`,
    protoPath: join(PROTO_ROOT, protoFile),
  });
}

export const ORDERS_V1 = contract<OrdersGrpcObject>('faultline.orders.v1', 'OrdersService', 'orders/v1/orders.proto');
export const INVENTORY_V1 = contract<InventoryGrpcObject>(
  'faultline.inventory.v1',
  'InventoryService',
  'inventory/v1/inventory.proto',
);
export const RECOMMENDATIONS_V1 = contract<RecommendationsGrpcObject>(
  'faultline.recommendations.v1',
  'RecommendationsService',
  'recommendations/v1/recommendations.proto',
);
export const NOTIFICATIONS_V1 = contract<NotificationsGrpcObject>(
  'faultline.notifications.v1',
  'NotificationsService',
  'notifications/v1/notifications.proto',
);
/** The standard gRPC health checking protocol; every Faultline gRPC server serves it beside its own service. */
export const HEALTH_V1 = contract<HealthGrpcObject>('grpc.health.v1', 'Health', 'grpc/health/v1/health.proto');

/** Every service contract, e.g. for tests and tooling that walk all of them. */
export const GRPC_SERVICES = Object.freeze([ORDERS_V1, INVENTORY_V1, RECOMMENDATIONS_V1, NOTIFICATIONS_V1, HEALTH_V1]);

/**
 * The proto part of Nest's gRPC transport options for a server or client that speaks the given services, e.g.
 * `{ transport: Transport.GRPC, options: { ...grpcTransportOptions(ORDERS_V1, HEALTH_V1), url } }`.
 */
export function grpcTransportOptions(...contracts: GrpcServiceContract[]): {
  package: string[];
  protoPath: string[];
  loader: protoLoader.Options;
} {
  if (contracts.length === 0) throw new Error('grpcTransportOptions needs at least one service contract');
  return {
    package: contracts.map((c) => c.package),
    protoPath: contracts.map((c) => c.protoPath),
    loader: PROTO_LOADER_OPTIONS,
  };
}

/** Loads a service's proto with PROTO_LOADER_OPTIONS into a proto-loader package definition. */
export function loadPackageDefinition(...contracts: GrpcServiceContract[]): protoLoader.PackageDefinition {
  return protoLoader.loadSync(
    contracts.map((c) => c.protoPath),
    PROTO_LOADER_OPTIONS,
  );
}

/**
 * Loads a service's proto into a typed grpc-js object tree, for plain grpc-js clients and servers:
 * `new (loadGrpcObject(HEALTH_V1).grpc.health.v1.Health)(address, credentials)`.
 */
export function loadGrpcObject<TGrpcObject>(contract: GrpcServiceContract<TGrpcObject>): TGrpcObject {
  return grpc.loadPackageDefinition(loadPackageDefinition(contract)) as unknown as TGrpcObject;
}
