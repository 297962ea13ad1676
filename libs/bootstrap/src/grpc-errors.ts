import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { status } from '@grpc/grpc-js';
import { Observable, throwError } from 'rxjs';
import { isTransientError } from '@faultline/resilience';

/** The expected failures a service's domain can report; each maps to one gRPC status, here and nowhere else. */
export type DomainErrorCode = 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'FAILED_PRECONDITION' | 'ABORTED';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

const GRPC_STATUS: Record<DomainErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  ABORTED: status.ABORTED,
};

/**
 * Maps domain errors to gRPC status codes for every gRPC controller (`@UseFilters(GrpcErrorFilter)`); a transient
 * failure of the service's own dependency (its database down or restarting) is UNAVAILABLE, so the caller knows to
 * retry later (the gateway answers 503 + Retry-After); anything else is a bug: it is logged with its stack and
 * answered as INTERNAL without details, so no SQL or stack crosses the wire.
 */
@Catch()
export class GrpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('GrpcErrorFilter');

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    if (exception instanceof DomainError) {
      return throwError(() => ({ code: GRPC_STATUS[exception.code], message: exception.message }));
    }
    if (isTransientError(exception)) {
      this.logger.warn(
        `a dependency is unavailable: ${exception instanceof Error ? exception.message : String(exception)}`,
      );
      return throwError(() => ({
        code: status.UNAVAILABLE,
        message: 'a dependency of this service is unavailable; retry later',
      }));
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return throwError(() => ({ code: status.INTERNAL, message: 'internal error' }));
  }
}
