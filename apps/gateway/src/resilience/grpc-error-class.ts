import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ErrorClass } from '@faultline/resilience';
import { GrpcCallError } from '../grpc/grpc-call';

/** Statuses that say "the caller asked something wrong", proving the dependency is up: never a breaker failure. */
const CALLER_ERRORS = new Set<number>([
  GrpcStatus.INVALID_ARGUMENT,
  GrpcStatus.NOT_FOUND,
  GrpcStatus.ALREADY_EXISTS,
  GrpcStatus.FAILED_PRECONDITION,
  GrpcStatus.ABORTED,
  GrpcStatus.PERMISSION_DENIED,
  GrpcStatus.UNAUTHENTICATED,
  GrpcStatus.OUT_OF_RANGE,
]);

/** How a failed gRPC call counts for its dependency's breaker. */
export function classifyGrpcError(error: unknown): ErrorClass {
  if (!(error instanceof GrpcCallError)) return 'failure';
  if (error.code === GrpcStatus.DEADLINE_EXCEEDED) return 'timeout';
  return CALLER_ERRORS.has(error.code) ? 'caller_error' : 'failure';
}

/**
 * Only UNAVAILABLE is retried: the channel could not reach the dependency or it refused before doing anything. Not
 * DEADLINE_EXCEEDED (the deadline is already spent and the dependency is slow: a retry only adds load), not
 * RESOURCE_EXHAUSTED (it asked us to back off), not INTERNAL/UNKNOWN (it may have done the work).
 */
export function isRetryableGrpcError(error: unknown): boolean {
  return error instanceof GrpcCallError && error.code === GrpcStatus.UNAVAILABLE;
}
