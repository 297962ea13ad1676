import { status as GrpcStatus } from '@grpc/grpc-js';
import { GrpcCallError } from '../grpc/grpc-call';
import { classifyGrpcError, isRetryableGrpcError } from './grpc-error-class';

const error = (code: number) => new GrpcCallError('inventory', 'GetProduct', code, 'details', {});

describe('gRPC errors for the breaker and the retry policy', () => {
  it('counts dependency failures and timeouts, never the caller’s mistakes', () => {
    expect(classifyGrpcError(error(GrpcStatus.UNAVAILABLE))).toBe('failure');
    expect(classifyGrpcError(error(GrpcStatus.INTERNAL))).toBe('failure');
    expect(classifyGrpcError(error(GrpcStatus.DEADLINE_EXCEEDED))).toBe('timeout');
    expect(classifyGrpcError(error(GrpcStatus.NOT_FOUND))).toBe('caller_error');
    expect(classifyGrpcError(error(GrpcStatus.INVALID_ARGUMENT))).toBe('caller_error');
    expect(classifyGrpcError(new Error('bug'))).toBe('failure');
  });

  it('retries only UNAVAILABLE', () => {
    expect(isRetryableGrpcError(error(GrpcStatus.UNAVAILABLE))).toBe(true);
    for (const code of [
      GrpcStatus.DEADLINE_EXCEEDED,
      GrpcStatus.RESOURCE_EXHAUSTED,
      GrpcStatus.INTERNAL,
      GrpcStatus.NOT_FOUND,
    ]) {
      expect(isRetryableGrpcError(error(code))).toBe(false);
    }
  });
});
