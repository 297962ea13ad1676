// Nest-facing views of a generated service definition, so that neither side hand-writes an interface that can drift
// from the proto (the failure mode of Nest's own gRPC sample).
import type { CallOptions, Metadata } from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { Observable } from 'rxjs';

// Generated definitions extend an index signature, so `keyof` is just `string`; a homomorphic mapped type with an
// `as` clause still visits each named RPC, and this drops the index signature itself.
type RpcMethodName<K> = string extends K ? never : K extends string ? Uncapitalize<K> : never;

/** Permissive request (what a client may send) of an RPC. */
type ClientRequest<M> = M extends MethodDefinition<infer TRequest, infer _R, infer _RO, infer _SO> ? TRequest : never;
/** Fully populated response (what a client receives) of an RPC. */
type ClientResponse<M> = M extends MethodDefinition<infer _Q, infer _R, infer _QO, infer TResponse> ? TResponse : never;
/** Fully populated request (what a handler receives) of an RPC. */
type ServerRequest<M> = M extends MethodDefinition<infer _Q, infer _R, infer TRequest, infer _RO> ? TRequest : never;
/** Permissive response (what a handler may return) of an RPC. */
type ServerResponse<M> =
  M extends MethodDefinition<infer _Q, infer TResponse, infer _QO, infer _RO> ? TResponse : never;

/**
 * What `ClientGrpc.getService<NestGrpcClient<OrdersV1.Definition>>(ORDERS_V1.service)` returns: one method per RPC,
 * lowerCamelCase, taking the permissive request type and emitting the fully populated response.
 */
export type NestGrpcClient<TDefinition> = {
  [K in keyof TDefinition as RpcMethodName<K>]: (
    request: ClientRequest<TDefinition[K]>,
    metadata?: Metadata,
    options?: CallOptions,
  ) => Observable<ClientResponse<TDefinition[K]>>;
};

/**
 * What a Nest gRPC controller implements: one handler per RPC named like the RPC in lowerCamelCase (Nest's
 * `@GrpcMethod(service)` maps `placeOrder` to `PlaceOrder`), receiving the fully populated request and returning the
 * permissive response type (or an Observable of it, for server-streaming RPCs).
 */
export type NestGrpcController<TDefinition> = {
  [K in keyof TDefinition as RpcMethodName<K>]: (
    request: ServerRequest<TDefinition[K]>,
    metadata?: Metadata,
  ) =>
    | ServerResponse<TDefinition[K]>
    | Promise<ServerResponse<TDefinition[K]>>
    | Observable<ServerResponse<TDefinition[K]>>;
};
