// Readable names for the types generated from package grpc.health.v1 (src/generated/ is built, never edited).
// Convention: `X` is a message as you receive it (every field present: PROTO_LOADER_OPTIONS.defaults), `XInput`
// is the permissive shape you may send (fields optional). Enums are string unions of their value names.
import {
  _grpc_health_v1_HealthCheckResponse_ServingStatus as ServingStatusValues,
  type _grpc_health_v1_HealthCheckResponse_ServingStatus__Output,
} from '../generated/grpc/health/v1/HealthCheckResponse';
export type { ProtoGrpcType as GrpcObject } from '../generated/health';
export type {
  HealthClient as Client,
  HealthHandlers as Handlers,
  HealthDefinition as Definition,
} from '../generated/grpc/health/v1/Health';
export type {
  HealthCheckRequest__Output as HealthCheckRequest,
  HealthCheckRequest as HealthCheckRequestInput,
} from '../generated/grpc/health/v1/HealthCheckRequest';
export type {
  HealthCheckResponse__Output as HealthCheckResponse,
  HealthCheckResponse as HealthCheckResponseInput,
} from '../generated/grpc/health/v1/HealthCheckResponse';
export const ServingStatus = ServingStatusValues;
export type ServingStatus = _grpc_health_v1_HealthCheckResponse_ServingStatus__Output;
