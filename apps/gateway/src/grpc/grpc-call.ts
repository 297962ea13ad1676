import { CallOptions, Metadata, ServiceError, status as GrpcStatus } from '@grpc/grpc-js';

/** What a slice wants the caller to read for an expected gRPC status of this call (instead of a generic text). */
export type GrpcDetails = Partial<Record<GrpcStatus, string>>;

/**
 * A dependency answered a call with a non-OK status. Carries the dependency's own `details` for the log only: the
 * problem filter maps `code` (grpcStatusToHttp) and answers with `callerDetails[code]` or a generic text.
 */
export class GrpcCallError extends Error {
  constructor(
    readonly service: string,
    readonly method: string,
    readonly code: number,
    readonly grpcDetails: string,
    readonly callerDetails: GrpcDetails,
  ) {
    super(`${service}.${method} failed with gRPC status ${GrpcStatus[code] ?? code}`);
    this.name = 'GrpcCallError';
  }
}

export interface UnaryCall<T> {
  service: string;
  method: string;
  /** Absolute deadline (epoch ms), sent to the dependency as the call's gRPC deadline: the dependency sees how long it
   * has left, retries included (the policy computes it once per call, see @faultline/resilience). */
  deadline: number;
  /** Invokes the typed grpc-js client method with the metadata, options (deadline) and callback given. */
  invoke: (
    metadata: Metadata,
    options: CallOptions,
    callback: (error: ServiceError | null, value?: T) => void,
  ) => unknown;
  /** Caller-facing details for expected statuses of this method (see the proto's comments). */
  details?: GrpcDetails;
  /** Propagated to the dependency (W3C traceparent, request id) so its logs can be joined with ours. */
  metadata?: Record<string, string>;
  /** Observes each completed call (status name and seconds), for metrics. */
  observe?: (code: string, seconds: number) => void;
}

/** One unary call with a deadline, as a promise. Every gateway call to a dependency goes through here. */
export function unaryCall<T>(call: UnaryCall<T>): Promise<T> {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(call.metadata ?? {})) metadata.set(key, value);
  const started = process.hrtime.bigint();
  return new Promise<T>((resolve, reject) => {
    call.invoke(metadata, { deadline: new Date(call.deadline) }, (error, value) => {
      const code = error ? error.code : value === undefined ? GrpcStatus.INTERNAL : GrpcStatus.OK;
      call.observe?.(GrpcStatus[code] ?? String(code), Number(process.hrtime.bigint() - started) / 1e9);
      if (error || value === undefined) {
        reject(
          new GrpcCallError(call.service, call.method, code, error?.details ?? 'empty response', call.details ?? {}),
        );
        return;
      }
      resolve(value);
    });
  });
}
