import { status as GrpcStatus } from '@grpc/grpc-js';
import { grpcStatusToHttp } from './grpc-status-to-http';

describe('grpcStatusToHttp', () => {
  it.each([
    [GrpcStatus.INVALID_ARGUMENT, 400, false],
    [GrpcStatus.NOT_FOUND, 404, false],
    [GrpcStatus.ALREADY_EXISTS, 409, false],
    [GrpcStatus.ABORTED, 409, false],
    [GrpcStatus.FAILED_PRECONDITION, 422, false],
    [GrpcStatus.PERMISSION_DENIED, 403, false],
    [GrpcStatus.UNAUTHENTICATED, 401, false],
    [GrpcStatus.RESOURCE_EXHAUSTED, 429, true],
    [GrpcStatus.UNAVAILABLE, 503, true],
    [GrpcStatus.DEADLINE_EXCEEDED, 504, false],
    [GrpcStatus.UNKNOWN, 502, false],
    [GrpcStatus.INTERNAL, 502, false],
    [GrpcStatus.UNIMPLEMENTED, 502, false],
    [GrpcStatus.DATA_LOSS, 502, false],
    [GrpcStatus.CANCELLED, 502, false],
    [GrpcStatus.OUT_OF_RANGE, 502, false],
    [GrpcStatus.OK, 502, false],
    [999, 502, false],
  ])('gRPC %s -> HTTP %s (Retry-After: %s)', (code, status, retryAfter) => {
    const answer = grpcStatusToHttp(code);
    expect(answer.status).toBe(status);
    expect(answer.retryAfter).toBe(retryAfter);
    expect(answer.detail).toEqual(expect.any(String));
  });
});
