import { status as GrpcStatus } from '@grpc/grpc-js';
import { PROBLEM_TYPES, ProblemKind } from '../errors/problem-details';

/**
 * The one mapping from a dependency's gRPC status to the gateway's HTTP answer. Anything not listed (UNKNOWN,
 * INTERNAL, UNIMPLEMENTED, DATA_LOSS, CANCELLED, OUT_OF_RANGE, OK-without-a-body…) is the dependency's failure, not the
 * caller's: 502.
 */
const MAPPED: Partial<Record<GrpcStatus, ProblemKind>> = {
  [GrpcStatus.INVALID_ARGUMENT]: 'badRequest',
  [GrpcStatus.NOT_FOUND]: 'notFound',
  [GrpcStatus.ALREADY_EXISTS]: 'conflict',
  [GrpcStatus.ABORTED]: 'conflict',
  [GrpcStatus.FAILED_PRECONDITION]: 'unprocessable',
  [GrpcStatus.PERMISSION_DENIED]: 'forbidden',
  [GrpcStatus.UNAUTHENTICATED]: 'unauthenticated',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'tooManyRequests',
  [GrpcStatus.UNAVAILABLE]: 'unavailable',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'gatewayTimeout',
};

/** What the caller reads when a slice gave no detail of its own for this status: never the dependency's text. */
const GENERIC_DETAIL: Partial<Record<ProblemKind, string>> = {
  badRequest: 'The request was refused as invalid.',
  notFound: 'The requested resource does not exist.',
  conflict: 'The request conflicts with the current state of the resource.',
  unprocessable: 'The request cannot be processed in the current state of the resource.',
  forbidden: 'You are not allowed to do this.',
  unauthenticated: 'Authentication required.',
  tooManyRequests: 'Too many requests; retry after the Retry-After delay.',
  unavailable: 'A service this request needs is unavailable; retry after the Retry-After delay.',
  gatewayTimeout: 'A service this request needs did not answer in time.',
  badGateway: 'A service this request needs failed.',
};

export interface HttpAnswer {
  kind: ProblemKind;
  status: number;
  detail: string;
  /** Only for 503 and 429: the caller should wait before retrying. */
  retryAfter: boolean;
}

export function grpcStatusToHttp(code: number): HttpAnswer {
  const kind = MAPPED[code as GrpcStatus] ?? 'badGateway';
  return {
    kind,
    status: PROBLEM_TYPES[kind].status,
    detail: GENERIC_DETAIL[kind] ?? 'A service this request needs failed.',
    retryAfter: kind === 'unavailable' || kind === 'tooManyRequests',
  };
}
